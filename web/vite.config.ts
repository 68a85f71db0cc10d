// Build configuration for the web client.
//
// The output in `dist/` is embedded into the `securechat` binary and served
// under a strict Content-Security-Policy (`default-src 'self'`), which shapes
// two settings below: no asset may be inlined as a `data:` URL, and nothing
// may be loaded from another origin.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import { defineConfig } from 'vitest/config';

/** Files worth compressing: text, and the WebAssembly module (about a third of its size). */
const COMPRESSIBLE = /\.(js|css|html|svg|json|wasm)$/;

/**
 * Writes a Brotli (`.br`) and a gzip (`.gz`) copy beside every compressible
 * file of the build, which the server sends to browsers that accept them
 * (crates/securechat-server/src/web.rs): compressed once here, at a high
 * level, instead of on every request (Brotli 10: within 2-5% of 11, in
 * half the time; 9 is 5-15% larger).
 */
function precompress(): Plugin {
  return {
    name: 'securechat-precompress',
    apply: 'build',
    // The files as written: Vite rewrites chunks (the dynamic imports'
    // preload lists) until the bundle is generated, so no earlier hook sees
    // their final bytes.
    writeBundle(options, bundle) {
      const dir = options.dir ?? 'dist';
      for (const fileName of Object.keys(bundle)) {
        if (!COMPRESSIBLE.test(fileName)) continue;
        const file = path.join(dir, fileName);
        const data = readFileSync(file);
        if (data.length < 1024) continue;
        writeFileSync(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 10, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
      }
    },
  };
}

// During `npm run dev`, API and Socket.IO requests go to a running server.
const backend = process.env.SECURECHAT_URL ?? 'http://127.0.0.1:5000';

/**
 * The installable app: its manifest, and the service worker (src/sw/sw.ts)
 * with the shell files it precaches. The lazy chunks (emoji data, password
 * dictionaries, highlighting) are left to the worker's runtime cache: they
 * are large and many people never load them.
 */
function installable() {
  return VitePWA({
    strategies: 'injectManifest',
    srcDir: 'src/sw',
    filename: 'sw.ts',
    injectRegister: false,
    manifest: {
      name: 'Securechat',
      short_name: 'Securechat',
      description: 'End-to-end encrypted team chat',
      start_url: '/',
      scope: '/',
      display: 'standalone',
      background_color: '#ffffff',
      theme_color: '#1f6f5c',
      icons: [
        { src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
        { src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
        { src: '/icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        { src: '/favicon.svg', sizes: 'any', type: 'image/svg+xml' },
      ],
    },
    injectManifest: {
      // A module worker (src/pwa.ts registers it with `type: 'module'`):
      // it imports the WebAssembly core's glue to decrypt pushes
      // (src/sw/read.ts), which finds its .wasm file by `import.meta.url`.
      rollupFormat: 'es',
      globPatterns: ['index.html', 'favicon.svg', 'icons/*.png', 'assets/index-*.{js,css}', 'assets/securechat_e2ee*.{js,wasm}', 'assets/decompress-*.js', 'assets/zh-CN-*.js'],
      maximumFileSizeToCacheInBytes: 4 * 1024 * 1024,
    },
  });
}

export default defineConfig({
  plugins: [precompress(), installable()],
  oxc: {
    // Preact's automatic JSX runtime; no framework plugin is needed.
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // `data:` URLs would be blocked by `default-src 'self'`.
    assetsInlineLimit: 0,
    // Every supported browser has native modulepreload.
    modulePreload: { polyfill: false },
  },
  server: {
    // The Host and Origin headers are kept as the browser sent them, so the
    // server's same-origin (CSRF) check sees a consistent request.
    proxy: {
      '/api': { target: backend },
      '/healthz': { target: backend },
      '/socket.io': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
