#!/usr/bin/env node
// A quick load sanity check of a server speaking the benchmark protocol
// (not the benchmark itself): many sockets spread over a few channels, a
// few of them sending as fast as their window allows. Every send must be
// acked with success, every socket must get exactly the messages of its
// channel once, and the history must hold exactly the acked messages.
//
//   node bench/peers/loadcheck.mjs http://127.0.0.1:5101 [sockets=200] [senders=20] [messages=50] [channels=4]
//
// Prints the counts and rates; exits 1 on any error, loss or duplicate.

import { randomBytes } from 'node:crypto';
import { api, baseUrl, connect, emitAck } from './client.mjs';

const base = baseUrl('loadcheck.mjs');
const settings = { sockets: 200, senders: 20, messages: 50, channels: 4 };
for (const arg of process.argv.slice(3)) {
  const [key, value] = arg.split('=');
  if (!(key in settings) || !/^\d+$/.test(value ?? '') || Number(value) < 1) {
    console.error(`unknown or bad setting ${arg}; use ${Object.keys(settings).map((k) => `${k}=N`).join(' ')}`);
    process.exit(2);
  }
  settings[key] = Number(value);
}
const { sockets: socketCount, senders, messages, channels: channelCount } = settings;
if (senders > socketCount) {
  console.error('senders must not exceed sockets');
  process.exit(2);
}
const WINDOW = 10;
const suffix = randomBytes(4).toString('hex');
const password = 'load-check-kettle-orbit';
const errors = [];

function need(result, status, what) {
  if (result.status !== status || result.body?.success !== true) {
    throw new Error(`${what}: HTTP ${result.status} ${JSON.stringify(result.body).slice(0, 300)}`);
  }
  return result.body;
}

async function user(name) {
  need(await api(base, 'POST', '/api/auth/register', { body: { username: name, password } }), 201, `register ${name}`);
  return need(await api(base, 'POST', '/api/auth/login', { body: { username: name, password } }), 200, `login ${name}`);
}

// One user per sender; the other sockets reuse their sessions round-robin.
const t0 = performance.now();
const users = [];
for (let i = 0; i < senders; i += 1) users.push(await user(`load${i}_${suffix}`));
const owner = users[0];
const created = need(
  await api(base, 'POST', '/api/rooms', { token: owner.token, body: { name: `load ${suffix}` } }),
  201,
  'create room',
);
const channelIds = [created.channels[0].id];
for (let i = 1; i < channelCount; i += 1) {
  const body = need(
    await api(base, 'POST', `/api/rooms/${created.room.id}/channels`, { token: owner.token, body: { name: `c${i}` } }),
    201,
    'create channel',
  );
  channelIds.push(body.channel.id);
}
for (const u of users.slice(1)) {
  need(await api(base, 'POST', `/api/rooms/${created.room.id}/join`, { token: u.token }), 200, 'join room');
}
const setupMs = performance.now() - t0;

// Socket i is in channel i % channelCount; sockets 0..senders-1 also send.
const clients = [];
for (let i = 0; i < socketCount; i += 1) {
  const socket = await connect(base, users[i % senders].token);
  const channelId = channelIds[i % channelCount];
  const ack = await emitAck(socket, 'join_channel', { channel_id: channelId });
  if (ack?.success !== true) throw new Error(`join_channel: ${JSON.stringify(ack)}`);
  const client = { socket, channelId, seen: new Set(), duplicates: 0, foreign: 0, outOfOrder: 0, last: 0 };
  socket.on('new_message', (m) => {
    if (m.channel_id !== channelId) client.foreign += 1;
    if (client.seen.has(m.id)) client.duplicates += 1;
    if (m.id < client.last) client.outOfOrder += 1;
    client.last = Math.max(client.last, m.id);
    client.seen.add(m.id);
  });
  socket.on('disconnect', (reason) => errors.push(`socket ${i} disconnected: ${reason}`));
  clients.push(client);
}
const connectMs = performance.now() - t0 - setupMs;

const acked = new Map(channelIds.map((id) => [id, []]));
const latencies = [];
async function sender(index) {
  const { socket, channelId } = clients[index];
  let next = 0;
  async function lane() {
    while (next < messages) {
      const n = next;
      next += 1;
      const started = performance.now();
      try {
        const ack = await emitAck(socket, 'send_message', {
          channel_id: channelId,
          content: `load message ${n} from ${index}`,
          client_msg_id: `l-${suffix}-${index}-${n}`,
        });
        latencies.push(performance.now() - started);
        if (ack?.success === true) acked.get(channelId).push(ack.message.id);
        else errors.push(`send ${index}/${n}: ${JSON.stringify(ack)}`);
      } catch (e) {
        errors.push(`send ${index}/${n}: ${e.message}`);
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WINDOW, messages) }, lane));
}
const sendStart = performance.now();
await Promise.all(Array.from({ length: senders }, (_, i) => sender(i)));
const sendMs = performance.now() - sendStart;

// Deliveries: every socket must see exactly its channel's acked messages.
const expected = (c) => acked.get(c.channelId).length;
const deadline = Date.now() + 15000;
while (clients.some((c) => c.seen.size < expected(c)) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 50));
}
const deliverMs = performance.now() - sendStart;
let deliveries = 0;
let outOfOrder = 0;
clients.forEach((c, i) => {
  deliveries += c.seen.size;
  outOfOrder += c.outOfOrder;
  const missing = acked.get(c.channelId).filter((id) => !c.seen.has(id)).length;
  if (missing > 0) errors.push(`socket ${i} missed ${missing} messages`);
  if (c.seen.size > expected(c)) errors.push(`socket ${i} got ${c.seen.size - expected(c)} unexpected messages`);
  if (c.duplicates > 0) errors.push(`socket ${i} got ${c.duplicates} duplicates`);
  if (c.foreign > 0) errors.push(`socket ${i} got ${c.foreign} messages of other channels`);
});

// History: exactly the acked ids, read oldest first with `after`.
for (const channelId of channelIds) {
  const ids = [];
  let after = 0;
  for (;;) {
    const body = need(
      await api(base, 'GET', `/api/channels/${channelId}/messages?after=${after}&limit=200`, { token: owner.token }),
      200,
      'history',
    );
    ids.push(...body.messages.map((m) => m.id));
    if (!body.has_more) break;
    after = ids.at(-1);
  }
  const want = [...acked.get(channelId)].sort((a, b) => a - b);
  if (JSON.stringify(ids) !== JSON.stringify(want)) {
    errors.push(`channel ${channelId}: history has ${ids.length} messages, ${want.length} were acked`);
  }
}
for (const c of clients) c.socket.off('disconnect').close();

const total = [...acked.values()].reduce((n, ids) => n + ids.length, 0);
latencies.sort((a, b) => a - b);
const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1) : '-');
console.log(`setup ${setupMs.toFixed(0)} ms (${senders} users), ${socketCount} sockets connected and joined in ${connectMs.toFixed(0)} ms`);
console.log(`${total}/${senders * messages} sends acked in ${sendMs.toFixed(0)} ms (${((total / sendMs) * 1000).toFixed(0)} msg/s, window ${WINDOW} per sender)`);
console.log(`ack latency ms: p50 ${pct(0.5)}, p99 ${pct(0.99)}, max ${pct(1)}`);
console.log(`${deliveries} deliveries in ${deliverMs.toFixed(0)} ms (${((deliveries / deliverMs) * 1000).toFixed(0)}/s), ${outOfOrder} out of id order`);
for (const e of errors.slice(0, 20)) console.log(`error: ${e}`);
console.log(errors.length === 0 ? 'load check: no errors' : `load check: ${errors.length} errors`);
process.exit(errors.length === 0 ? 0 : 1);
