// The project's own cryptography, loaded in Node: the WebAssembly build of
// crates/securechat-crypto (`scripts/wasm.sh build` → web/wasm, wasm-bindgen
// `--target web`), plus the seed's key calls made the way its browser client
// makes them.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readBody } from './api.mjs';
import { REPO_ROOT } from './server.mjs';

/** Where the WASM build is: `WASM_OUT_DIR` (as in scripts/wasm.sh), else web/wasm. */
export function wasmDir() {
  return path.resolve(REPO_ROOT, process.env.WASM_OUT_DIR ?? 'web/wasm');
}

let loaded;

/**
 * The WebAssembly module (the E2EE core with the crypto crate's bindings), initialised (once) from the `.wasm` bytes.
 * Throws a clear error if the build is missing.
 */
export async function loadCrypto() {
  if (loaded !== undefined) return loaded;
  const dir = wasmDir();
  const glue = path.join(dir, 'securechat_e2ee.js');
  const binary = path.join(dir, 'securechat_e2ee_bg.wasm');
  const missing = [glue, binary].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `the WebAssembly build of securechat-e2ee is missing (${missing.join(', ')}): ` +
        'run `scripts/wasm.sh build` (or `make wasm`) from the repository root, ' +
        'or point WASM_OUT_DIR at a build',
    );
  }
  const sc = await import(pathToFileURL(glue).href);
  sc.initSync({ module: readFileSync(binary) });
  loaded = sc;
  return sc;
}

/**
 * A fetch exactly like the seed's client code: the browser sends the session
 * cookie (same origin), an `Origin` on anything but GET/HEAD, and the seed
 * sets `Content-Type: application/json` on every POST — even
 * `request_key`, which has no body. Returns `{ status, body }`.
 */
export async function seedFetch(server, session, method, urlPath, body) {
  const headers = { Cookie: session.cookie };
  if (!['GET', 'HEAD'].includes(method)) {
    headers.Origin = server.url;
    headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(`${server.url}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await readBody(response) };
}

/**
 * Generates an identity for the logged-in `session` and publishes its bundle
 * with `PUT /api/users/me/public_key` {public_key}. Returns the identity
 * (WASM object; freed with the process).
 */
export async function publishIdentity(server, session) {
  const sc = await loadCrypto();
  const identity = sc.Identity.generate(session.user.id);
  const bundle = identity.bundle();
  const { status, body } = await seedFetch(server, session, 'PUT', '/api/users/me/public_key', {
    public_key: bundle,
  });
  assert.equal(status, 200, `PUT public_key for ${session.user.username}: ${JSON.stringify(body)}`);
  assert.equal(body.success, true);
  assert.equal(body.public_key, bundle);
  return identity;
}

/**
 * `GET /api/users/<id>/public_key` read as the seed reads it:
 * `keyData.success` and `keyData.public_key`. Returns the bundle, after
 * checking it is a valid self-signed bundle for that user.
 */
export async function fetchBundle(server, session, userId) {
  const sc = await loadCrypto();
  const { status, body } = await seedFetch(server, session, 'GET', `/api/users/${userId}/public_key`);
  assert.equal(status, 200, `GET /api/users/${userId}/public_key: ${JSON.stringify(body)}`);
  assert.equal(body.success, true, JSON.stringify(body));
  assert.equal(typeof body.public_key, 'string', JSON.stringify(body));
  sc.bundleFingerprint(body.public_key, userId); // throws unless valid for userId
  return body.public_key;
}

/**
 * Seals `channelKey` for `recipientId` (bundle fetched from the server) and
 * posts it with `POST /api/channels/share_key` exactly as the seed does:
 * {user_id, channel_id, encrypted_key, is_key_rotation, key_version}.
 * `purpose` is `initial`, `rotation` or `request` (with `requestId`).
 * Returns `{ status, body, encryptedKey }`.
 */
export async function shareKey(server, sender, senderIdentity, share) {
  const { recipientId, channelId, keyVersion, purpose } = share;
  const sc = await loadCrypto();
  const bundle = await fetchBundle(server, sender, recipientId);
  const encryptedKey = sc.sealShare(
    senderIdentity, bundle, recipientId, channelId, keyVersion, purpose, share.requestId, share.channelKey,
  );
  const { status, body } = await seedFetch(server, sender, 'POST', '/api/channels/share_key', {
    user_id: recipientId,
    channel_id: channelId,
    encrypted_key: encryptedKey,
    is_key_rotation: purpose === 'rotation',
    key_version: keyVersion,
  });
  return { status, body, encryptedKey };
}

/** Like `shareKey`, but asserts 200 and `success: true`. */
export async function shareKeyOk(server, sender, senderIdentity, options) {
  const result = await shareKey(server, sender, senderIdentity, options);
  assert.equal(
    result.status,
    200,
    `share_key v${options.keyVersion} ${options.purpose} → user ${options.recipientId}: ` +
      JSON.stringify(result.body),
  );
  assert.equal(result.body?.success, true, JSON.stringify(result.body));
  return result;
}

/** Encrypts `text` as `sender` (UTF-8) into a message envelope. */
export async function encryptText(senderIdentity, channelKey, channelId, keyVersion, counter, text) {
  const sc = await loadCrypto();
  return sc.encryptMessage(
    senderIdentity,
    channelKey,
    channelId,
    keyVersion,
    counter,
    new TextEncoder().encode(text),
  );
}

/** Verifies and decrypts an envelope; returns the text. */
export async function decryptText(envelope, channelKey, senderBundle, channelId, keyVersion) {
  const sc = await loadCrypto();
  const bytes = sc.decryptMessage(envelope, channelKey, senderBundle, channelId, keyVersion);
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
