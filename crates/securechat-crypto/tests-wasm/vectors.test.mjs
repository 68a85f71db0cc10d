// Checks every JSON test vector against the WebAssembly build, in Node 20.
// Run through `scripts/wasm.sh test`, which builds web/wasm/ first; the same
// vectors are checked natively by tests/vectors.rs, so both builds of the one
// implementation are held to the same bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const wasmDir = process.env.WASM_OUT_DIR ?? join(repo, 'web', 'wasm');
const vectorsDir = process.env.VECTORS_DIR ?? join(here, '..', 'vectors');

const sc = await import(pathToFileURL(join(wasmDir, 'securechat_e2ee.js')).href);
sc.initSync({ module: readFileSync(join(wasmDir, 'securechat_e2ee_bg.wasm')) });

const load = (name) => JSON.parse(readFileSync(join(vectorsDir, name), 'utf8'));
const identities = load('identities.json').identities;
const byId = new Map(identities.map((i) => [i.user_id, i]));
const identity = (uid) => sc.Identity.import(byId.get(uid).export);
const bundle = (uid) => byId.get(uid).bundle;
const hex = (bytes) => Buffer.from(bytes).toString('hex');

// Asserts that `fn` throws a crypto error with `code` (and, for context
// mismatches, a message naming `field`).
function throwsCode(fn, code, field, label) {
  assert.throws(fn, (e) => {
    assert.equal(e.code, code, `${label}: ${e.message}`);
    if (field) assert.ok(e.message.startsWith(field), `${label}: ${e.message}`);
    return true;
  }, label);
}

test('identities: export, bundle and fingerprint are byte-identical', () => {
  for (const v of identities) {
    const id = sc.Identity.import(v.export);
    assert.equal(id.userId, v.user_id);
    assert.equal(id.export(), v.export);
    assert.equal(id.bundle(), v.bundle);
    assert.equal(sc.bundleFingerprint(v.bundle, v.user_id), v.fingerprint);
    throwsCode(() => sc.bundleFingerprint(v.bundle, v.user_id + 100), 'context_mismatch', 'user_id', v.name);
    id.free();
  }
});

test('shares: every valid share opens to its key; every invalid one fails as recorded', () => {
  const v = load('shares.json');
  for (const c of v.valid) {
    const info = sc.inspectShare(c.encrypted_key);
    assert.equal(info.channelId, c.channel_id);
    assert.equal(info.keyVersion, c.key_version);
    assert.equal(info.senderId, c.sender_id);
    assert.equal(info.recipientId, c.recipient_id);
    assert.equal(info.purpose, c.purpose);
    assert.equal(info.requestId ?? null, c.request_id);
    assert.equal(info.isKeyRotation, c.is_key_rotation);
    assert.equal(info.format, c.format ?? 1);
    assert.equal(info.roomId ?? null, c.room_id ?? null);
    assert.equal(info.logSeq ?? null, c.log_seq ?? null);
    const key = sc.openShare(identity(c.recipient_id), c.encrypted_key, bundle(c.sender_id), c.sender_id,
      c.channel_id, c.key_version, c.purpose, c.request_id ?? undefined, c.room_id ?? undefined);
    assert.equal(key, c.channel_key);
  }
  for (const c of v.invalid) {
    const o = c.open_as;
    throwsCode(() => sc.openShare(identity(o.recipient_id), c.encrypted_key, bundle(o.sender_id), o.sender_id,
      o.channel_id, o.key_version, o.purpose, o.request_id ?? undefined, o.room_id ?? undefined), c.error, c.field, c.case);
  }
});

test('shares: sealed in WASM, opened in WASM, bound to the recipient', () => {
  const key = sc.generateChannelKey();
  const alice = identity(1);
  const share = sc.sealShare(alice, bundle(2), 2, 10, 4, 'request', 9, key);
  assert.equal(sc.openShare(identity(2), share, bundle(1), 1, 10, 4, 'request', 9), key);
  throwsCode(() => sc.openShare(identity(2), share, bundle(1), 1, 10, 4, 'request', 8), 'context_mismatch', 'request_id', 'other request');
  throwsCode(() => sc.openShare(identity(3), share, bundle(1), 1, 10, 4, 'request', 9), 'context_mismatch', 'recipient_id', 'other recipient');
  const bound = sc.sealShare(alice, bundle(2), 2, 10, 4, 'rotation', undefined, key, 7, 12);
  const info = sc.inspectShare(bound);
  assert.deepEqual([info.format, info.roomId, info.logSeq], [2, 7, 12]);
  assert.equal(sc.openShare(identity(2), bound, bundle(1), 1, 10, 4, 'rotation', undefined, 7), key);
  throwsCode(() => sc.openShare(identity(2), bound, bundle(1), 1, 10, 4, 'rotation', undefined, 8), 'context_mismatch', 'room_id', 'other room');
});

test('messages: every valid envelope decrypts; replays and forgeries fail as recorded', () => {
  const v = load('messages.json');
  for (const c of v.valid) {
    const info = sc.inspectMessage(c.envelope);
    assert.equal(info.senderId, c.sender_id);
    assert.equal(info.counter, c.counter);
    const plain = sc.decryptMessage(c.envelope, c.channel_key, bundle(c.sender_id), c.channel_id, c.key_version);
    assert.equal(hex(plain), c.plaintext_hex);
  }
  const key = v.valid[0].channel_key;
  for (const c of v.invalid) {
    throwsCode(() => sc.decryptMessage(c.envelope, key, bundle(c.sender_id), c.read_as.channel_id, c.read_as.key_version),
      c.error, c.field, c.case);
  }
  const text = new TextEncoder().encode('from wasm');
  const env = sc.encryptMessage(identity(2), key, 10, 1, 3, text);
  assert.equal(new TextDecoder().decode(sc.decryptMessage(env, key, bundle(2), 10, 1)), 'from wasm');
  const bound = sc.encryptMessage(identity(2), key, 10, 1, 4, text, 4);
  assert.equal(new TextDecoder().decode(sc.decryptMessage(bound, key, bundle(2), 10, 1)), 'from wasm');
  throwsCode(() => sc.decryptMessage(bound, sc.generateChannelKey(), bundle(2), 10, 1), 'context_mismatch', 'key_commitment', 'another key');
  assert.equal(sc.sendPolicyCheck(99, 0, 10), undefined);
  assert.equal(sc.sendPolicyCheck(100, 0, 10), 'message_limit');
  assert.equal(sc.sendPolicyCheck(0, 0, 7 * 24 * 3600), 'key_age');
});

test('membership: logs verify to the recorded member sets, are rebuilt byte for byte, and bad logs fail', () => {
  const v = load('membership.json');
  const bundles = identities.map((i) => i.bundle);
  for (const c of v.valid) {
    const log = sc.MembershipLog.verify(c.entries, bundles);
    assert.equal(log.length, c.entries.length);
    assert.equal(log.headHash(), c.head_hash);
    c.members_after.forEach((expected, seq) => {
      const got = log.membersAt(seq).map((m) => ({ user_id: m.userId, role: m.role }));
      assert.deepEqual(got, expected, `${c.name} after ${seq}`);
    });
    assert.deepEqual([...log.channels()], c.channels, `${c.name}: registered channels`);
    for (const t of c.timers ?? []) {
      assert.equal(log.timer(t.channel_id), t.seconds, `${c.name}: timer of ${t.channel_id}`);
    }
    if (c.actions.some((a) => a.op === 'server_remove')) continue; // server-only operation
    const rebuilt = sc.MembershipLog.create(identity(1), c.room_id, c.public, c.created_at);
    for (const a of c.actions) {
      rebuilt.append(identity(a.actor_id), a.op, a.subject_id ?? undefined, a.role ?? undefined, a.timestamp, a.seconds ?? undefined);
    }
    assert.deepEqual(rebuilt.entries(), c.entries, c.name);
  }
  for (const c of v.invalid) {
    throwsCode(() => sc.MembershipLog.verify(c.entries, bundles), c.error, null, c.case);
  }
  // Pinning: a log verified from a prefix does not extend a later pin.
  const full = sc.MembershipLog.verify(v.valid[0].entries, bundles);
  const pin = [full.length - 1, full.headHash()];
  full.checkExtends(...pin);
  const prefix = sc.MembershipLog.verify(v.valid[0].entries.slice(0, 3), bundles);
  throwsCode(() => prefix.checkExtends(...pin), 'log_fork', null, 'rollback');
});

test('safety numbers are identical', () => {
  for (const c of load('safety.json').pairs) {
    const n = sc.safetyNumber(bundle(c.user_a), c.user_a, bundle(c.user_b), c.user_b);
    assert.equal(n.digits, c.digits);
    assert.equal(n.display, c.display);
    assert.equal(hex(n.bytes), c.bytes_hex);
  }
});

test('backup opens with the passphrase only', () => {
  const v = load('backup.json');
  assert.equal(sc.openBackup(v.blob, v.passphrase).export(), v.identity_export);
  throwsCode(() => sc.openBackup(v.blob, 'correct horse battery stapler'), v.wrong_passphrase_error, null, 'wrong passphrase');
});

test('a fresh identity works end to end in WASM', () => {
  const me = sc.Identity.generate(42);
  const sealed = sc.sealBackup(me, 'a long recovery passphrase');
  assert.equal(sc.openBackup(sealed, 'a long recovery passphrase').bundle(), me.bundle());
  throwsCode(() => sc.sealBackup(me, 'short'), 'weak_passphrase', null, 'short passphrase');
  throwsCode(() => sc.Identity.generate(1.5), 'invalid_argument', null, 'fractional id');
});

test('files round-trip in chunks and reject truncation', () => {
  const key = sc.generateFileKey();
  const data = new Uint8Array(200_000).map((_, i) => i % 251);
  const blob = sc.encryptFile(key, data);
  assert.deepEqual(sc.decryptFile(key, blob), data);
  throwsCode(() => sc.decryptFile(key, blob.slice(0, blob.length - 1)), 'decryption_failed', null, 'truncated file');
  throwsCode(() => sc.decryptFile(sc.generateFileKey(), blob), 'decryption_failed', null, 'wrong key');
});
