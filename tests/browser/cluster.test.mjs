// Chat in headless Chromium through a local nginx load balancer in front of
// two `securechat serve` nodes sharing PostgreSQL and Redis. The pages speak
// Socket.IO over the browser's own WebSocket (session cookie, same-origin
// handshake), so the test exercises what a browser sends through nginx:
// the cookie login, the WebSocket upgrade, and fan-out between the nodes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser } from './lib/browser.mjs';
import { clusterUnavailable, startCluster } from './lib/cluster.mjs';

const skip = clusterUnavailable();
let cluster;
let browser;

before(async () => {
  if (skip) return;
  cluster = await startCluster(2);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** A signed-in page (cookie session) with a Socket.IO connection. */
async function chatter(context, username, password) {
  const page = await context.newPage();
  await page.goto('/healthz');
  const status = await page.evaluate(async ([u, p]) => {
    const r = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: u, password: p }),
    });
    return r.status;
  }, [username, password]);
  assert.equal(status, 200, `login ${username}`);
  await page.evaluate(async () => {
    // Engine.IO v4 / Socket.IO v5 over WebSocket, the few packets a chat needs.
    const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
    const events = [];
    const acks = new Map();
    let nextId = 0;
    await new Promise((resolve, reject) => {
      ws.onerror = () => reject(new Error('WebSocket failed'));
      ws.onmessage = ({ data }) => {
        if (data.startsWith('0')) ws.send('40');
        else if (data.startsWith('40')) resolve();
        else if (data.startsWith('44')) reject(new Error(`refused: ${data}`));
      };
    });
    ws.onmessage = ({ data }) => {
      if (data === '2') ws.send('3');
      else if (data.startsWith('42')) events.push(JSON.parse(data.slice(2)));
      else if (data.startsWith('43')) {
        const [, id, body] = /^43(\d+)(.*)$/s.exec(data);
        acks.get(Number(id))?.(JSON.parse(body)[0]);
      }
    };
    window.chat = {
      events,
      emit: (name, body) =>
        new Promise((resolve) => {
          const id = nextId++;
          acks.set(id, resolve);
          ws.send(`42${id}${JSON.stringify([name, body])}`);
        }),
    };
  });
  return page;
}

async function waitForMessage(page, content) {
  await page.waitForFunction(
    (text) => window.chat.events.some(([name, body]) => name === 'new_message' && body.content === text),
    content,
    { timeout: 10_000 },
  );
}

test('two browsers chat through nginx in front of two nodes', { skip }, async () => {
  const options = { baseURL: cluster.url, bypassCSP: true };
  const aliceContext = await browser.newContext(options);
  const bobContext = await browser.newContext(options);
  try {
    const alice = await chatter(aliceContext, 'alice', 'password123');
    // bob opens two tabs: nginx's round robin puts their sockets on both nodes.
    const bob1 = await chatter(bobContext, 'bob', 'password456');
    const bob2 = await chatter(bobContext, 'bob', 'password456');
    for (const i of [0, 1]) {
      assert.match(cluster.logs(i), /socket connected/, `node ${i} serves sockets`);
    }
    const rooms = await alice.evaluate(async () => (await fetch('/api/rooms')).json());
    const lobby = rooms.rooms.find((r) => r.name === 'Lobby').channels.find((c) => c.name === 'general').id;
    for (const page of [alice, bob1, bob2]) {
      const joined = await page.evaluate((id) => window.chat.emit('join_channel', { channel_id: id }), lobby);
      assert.equal(joined.success, true);
    }
    const sent = await alice.evaluate(
      (id) => window.chat.emit('send_message', { channel_id: id, content: 'hello across nodes', client_msg_id: 'b-1' }),
      lobby,
    );
    assert.equal(sent.success, true);
    await waitForMessage(bob1, 'hello across nodes');
    await waitForMessage(bob2, 'hello across nodes');
    const reply = await bob2.evaluate(
      (id) => window.chat.emit('send_message', { channel_id: id, content: 'hi alice', client_msg_id: 'b-2' }),
      lobby,
    );
    assert.equal(reply.success, true);
    await waitForMessage(alice, 'hi alice');
    await waitForMessage(bob1, 'hi alice');
  } finally {
    await aliceContext.close();
    await bobContext.close();
  }
});
