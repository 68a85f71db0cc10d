// The E2EE core's WebAssembly module loaded in Node, for unit tests of code
// that calls it (search/text.ts): a browser fetches the module by URL, which
// Node cannot do for a file, so its bytes are read and instantiated here
// first; `loadWasm()` then finds it ready. Only test files import this.

import { initSync } from '../../wasm/securechat_e2ee.js';
import { loadWasm, type Wasm } from './core.ts';

// A variable specifier: the page's TypeScript settings have no Node types,
// and this module is never bundled.
const FS = 'node:fs';

/** Loads web/wasm (built by `make wasm`) in Node. */
export async function loadWasmInNode(): Promise<Wasm> {
  const fs = (await import(/* @vite-ignore */ FS)) as { readFileSync(path: URL): Uint8Array };
  initSync({ module: fs.readFileSync(new URL('../../wasm/securechat_e2ee_bg.wasm', import.meta.url)) });
  return loadWasm();
}
