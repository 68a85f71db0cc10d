// The web client in headless Chromium through a local nginx load balancer in
// front of two `securechat serve` nodes sharing PostgreSQL and Redis: the
// login form, the WebSocket upgrade through nginx, and messages fanned out
// between the nodes to every open window.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser } from './lib/browser.mjs';
import { expectMessage, messageTexts, openChannel, send, signIn } from './lib/chat.mjs';
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

/** Waits until `check()` holds (node logs are read as they grow). */
async function eventually(check, what) {
  for (let i = 0; i < 100; i += 1) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(what);
}

test('two people chat in the web UI through nginx in front of two nodes', { skip }, async () => {
  const suite = { browser, server: { url: cluster.url } };
  // alice is served by node 0; bob has two windows, one on each node.
  const alice = await signIn(suite, 'alice', { prepare: (c) => cluster.pin(c, 0) });
  const bob1 = await signIn(suite, 'bob', { prepare: (c) => cluster.pin(c, 0) });
  const bob2 = await signIn(suite, 'bob', { prepare: (c) => cluster.pin(c, 1) });
  const people = [alice, bob1, bob2];
  try {
    for (const { page } of people) await openChannel(page, 'Lobby', 'general');
    for (const i of [0, 1]) {
      await eventually(() => /socket connected/.test(cluster.logs(i)), `node ${i} serves sockets`);
    }
    await send(alice.page, 'hello across nodes');
    await expectMessage(bob1.page, 'hello across nodes');
    await expectMessage(bob2.page, 'hello across nodes');
    await send(bob2.page, 'hi alice');
    await expectMessage(alice.page, 'hi alice');
    await expectMessage(bob1.page, 'hi alice');
    // The same conversation, in order, on every page.
    for (const { page } of people) {
      const texts = await messageTexts(page);
      assert.deepEqual(texts.slice(-2), ['hello across nodes', 'hi alice']);
    }
  } finally {
    for (const person of people) {
      assert.deepEqual(await person.close(), [], 'no page errors');
    }
  }
});
