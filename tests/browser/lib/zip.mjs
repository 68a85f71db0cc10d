// Downloaded zips read by an independent reader: Python's zipfile, whose
// `testzip` checks every entry's CRC first.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Saves `download` (removed when the test `t` ends) and runs `lines` of
 * Python with the open, CRC-checked archive as `z`; the script prints JSON,
 * which is returned parsed.
 */
export async function readDownloadedZip(t, download, lines) {
  const dir = await mkdtemp(path.join(tmpdir(), 'securechat-zip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'archive.zip');
  await download.saveAs(file);
  assert.equal((await readFile(file)).subarray(0, 4).toString('latin1'), 'PK\x03\x04');
  const script = ['import sys, zipfile, json', 'z = zipfile.ZipFile(sys.argv[1])', 'assert z.testzip() is None', ...lines].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}
