// Runs the lying-server scenarios (scenarios/*.json) against the WebAssembly
// build of the core, in Node 20: the browser's `Machine` must accept, refuse,
// warn and send exactly as the native core does (tests/lying_server.rs runs
// the same files through securechat_e2ee::call). Run through
// `scripts/wasm.sh test`, which builds web/wasm/ first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..', '..');
const wasmDir = process.env.WASM_OUT_DIR ?? join(repo, 'web', 'wasm');
const scenariosDir = process.env.SCENARIOS_DIR ?? join(here, '..', 'scenarios');

const core = await import(pathToFileURL(join(wasmDir, 'securechat_e2ee.js')).href);
core.initSync({ module: readFileSync(join(wasmDir, 'securechat_e2ee_bg.wasm')) });

// Whether `actual` contains `expected`: objects by key (extra keys allowed),
// arrays of the same length paired in any order, anything else by equality.
// tests/lying_server.rs implements the same rule.
function matches(expected, actual) {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false;
    const used = new Array(actual.length).fill(false);
    return expected.every((want) => {
      const i = actual.findIndex((have, j) => !used[j] && matches(want, have));
      if (i < 0) return false;
      used[i] = true;
      return true;
    });
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([k, v]) => k in actual && matches(v, actual[k]));
  }
  return expected === actual;
}

// `args` with every string `${name.field}` replaced by `field` of the answer
// saved as `name` (sealed envelopes are random; a reader takes them from the
// sealing step); a longer path goes deeper, a number indexing an array
// (`${name.shares.0.encrypted_key}`).
function substitute(args, saved) {
  if (typeof args === 'string') {
    const m = /^\$\{([^.}]+)\.([^}]+)\}$/.exec(args);
    if (!m) return args;
    assert.ok(m[1] in saved, `no answer saved as ${m[1]}`);
    return m[2]
      .split('.')
      .reduce((value, field) => (Array.isArray(value) ? value[Number(field)] : value?.[field]), saved[m[1]]);
  }
  if (Array.isArray(args)) return args.map((v) => substitute(v, saved));
  if (args !== null && typeof args === 'object') {
    return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, substitute(v, saved)]));
  }
  return args;
}

function machine(state, userId) {
  const text = typeof state === 'string' ? state : JSON.stringify(state);
  return new core.Machine(text, 'https://chat.example', userId);
}

function run(scenario) {
  const machines = { me: machine(scenario.state, scenario.user_id) };
  for (const [label, m] of Object.entries(scenario.machines ?? {})) {
    machines[label] = machine(m.state, m.user_id);
  }
  const saved = {};
  const failures = [];
  scenario.steps.forEach((step, i) => {
    const on = step.on ?? 'me';
    const at = `scenario ${scenario.name}, step ${i} (${step.op} on ${on}: ${step.note ?? ''})`;
    const m = machines[on];
    assert.ok(m, `${scenario.name}: no machine ${on}`);
    const args = JSON.stringify(substitute(step.args, saved));
    let answer;
    let refusal;
    try {
      answer = JSON.parse(m.call(step.op, args));
    } catch (e) {
      if (typeof e?.code !== 'string') throw e;
      refusal = e;
    }
    const want = step.expect;
    if ('refused' in want) {
      if (refusal === undefined) {
        failures.push(`${at}: answered ${JSON.stringify(answer)}, expected refusal ${want.refused}`);
      } else if (refusal.code !== want.refused) {
        failures.push(`${at}: refused ${refusal.code} (${refusal.message}), expected refusal ${want.refused}`);
      }
    } else if (refusal !== undefined) {
      failures.push(`${at}: refused ${refusal.code} (${refusal.message}), expected ${JSON.stringify(want.ok)}`);
    } else if (!matches(want.ok, answer)) {
      failures.push(`${at}: answered ${JSON.stringify(answer)}, expected ${JSON.stringify(want.ok)}`);
    }
    if (step.save && refusal === undefined) saved[step.save] = answer;
  });
  for (const m of Object.values(machines)) m.free();
  assert.deepEqual(failures, [], `\n${failures.join('\n')}\n  rule: ${scenario.rule}\n`);
}

const files = readdirSync(scenariosDir).filter((f) => f.endsWith('.json')).sort();

test('the scenarios are there', () => {
  assert.ok(files.length > 0, `no scenarios in ${scenariosDir}`);
});

for (const file of files) {
  const scenario = JSON.parse(readFileSync(join(scenariosDir, file), 'utf8'));
  test(`${scenario.name}: ${scenario.rule}`, () => run(scenario));
}

test('the matcher is a subset match', () => {
  assert.ok(matches({}, { a: 1 }));
  assert.ok(matches({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!matches({ a: 1 }, { a: 2 }));
  assert.ok(!matches({ c: null }, { a: 1 }));
  assert.ok(matches([{ u: 2 }, { u: 1 }], [{ u: 1, x: 0 }, { u: 2 }]));
  assert.ok(!matches([{ u: 1 }], [{ u: 1 }, { u: 2 }]));
  assert.ok(!matches([{ u: 1 }, { u: 1 }], [{ u: 1 }, { u: 2 }]));
  assert.ok(!matches({}, []));
});

// Two devices of one person, each with the device tag the constructor draws
// at random (the JSON scenario `two_devices` fixes the tags): sealed in the
// WASM build, read back by another member, both verify and neither is a
// replay.
test('two fresh devices sealing under one version are not replays', () => {
  const scenario = JSON.parse(readFileSync(join(scenariosDir, 'two_devices.json'), 'utf8'));
  const fresh = (label) => machine({ ...scenario.machines[label].state, device: 0 }, 1);
  const laptop = fresh('laptop');
  const phone = fresh('phone');
  const deviceOf = (m) => JSON.parse(m.call('my_bundle', '{}')).device;
  assert.notEqual(deviceOf(laptop), 0);
  assert.notEqual(deviceOf(phone), 0);
  // One chance in 65535 that both drew the same tag: nothing to check then.
  if (deviceOf(laptop) !== deviceOf(phone)) {
    const reader = machine(scenario.state, 2);
    [[laptop, 'laptop'], [phone, 'phone']].forEach(([device, text], i) => {
      const sealed = JSON.parse(device.call('seal', JSON.stringify({ channel_id: 100, version: 1, text, now: 1_700_000_010 })));
      const shown = JSON.parse(reader.call('read', JSON.stringify({
        message: { id: i + 1, channel_id: 100, sender_id: 1, envelope: sealed.envelope, key_version: 1 },
        encrypted: true,
      })));
      assert.deepEqual(shown, { kind: 'verified', text, sender_id: 1, what: 'message', reply_to: null });
    });
    reader.free();
  }
  laptop.free();
  phone.free();
});

// The key of a device's local search index (web/src/search/), through the
// WASM build: 32 bytes, refused before the browser is a device, the same on
// every call of one device and different on another device of the same
// person. And `read_many` shows a page exactly as `read` shows each message.
test('each device derives its own search index key; read_many reads as read does', () => {
  const scenario = JSON.parse(readFileSync(join(scenariosDir, 'two_devices.json'), 'utf8'));
  const fresh = (label) => machine({ ...scenario.machines[label].state, device: 0 }, 1);
  const laptop = fresh('laptop');
  const phone = fresh('phone');
  assert.throws(() => laptop.call('search_index_key', '{}'), (e) => e.code === 'no_identity');
  for (const m of [laptop, phone]) m.call('set_up_device', JSON.stringify({ now: 1_700_000_000 }));
  const keyOf = (m) => JSON.parse(m.call('search_index_key', '{}')).key;
  const key = keyOf(laptop);
  assert.equal(Buffer.from(key, 'base64url').length, 32);
  assert.equal(keyOf(laptop), key);
  assert.notEqual(keyOf(phone), key);

  const reader = machine(scenario.state, 2);
  const messages = ['one', 'two'].map((text, i) => {
    const sealed = JSON.parse(laptop.call('seal', JSON.stringify({ channel_id: 100, version: 1, text, now: 1_700_000_010 })));
    return { id: i + 1, channel_id: 100, sender_id: 1, envelope: sealed.envelope, key_version: 1 };
  });
  const many = JSON.parse(reader.call('read_many', JSON.stringify({ messages, encrypted: true })));
  assert.deepEqual(many.map((s) => s.text), ['one', 'two']);
  const one = JSON.parse(reader.call('read', JSON.stringify({ message: messages[1], encrypted: true })));
  assert.deepEqual(one, many[1]);
  for (const m of [laptop, phone, reader]) m.free();
});
