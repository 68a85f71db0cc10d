// Shared set-up of a test file: one fresh server for the file; every socket a
// test opens through `suite.connect`/`suite.open` is closed after it; the
// server log must show no panic.

import assert from 'node:assert/strict';
import { after, afterEach, before } from 'node:test';
import { startServer } from './server.mjs';
import { connected, openSocket } from './socket.mjs';

/**
 * Registers the hooks and returns `{ server, open(options), connect(options) }`;
 * `server` is set while the tests run.
 */
export function serverSuite() {
  const sockets = new Set();
  const suite = {
    server: undefined,
    /** Opens a socket (see `openSocket`) that is closed after the test. */
    open(options) {
      const socket = openSocket(suite.server, options);
      sockets.add(socket);
      return socket;
    },
    /** Opens a socket and waits until it is connected. */
    async connect(options) {
      return connected(suite.open(options));
    },
  };

  before(async () => {
    suite.server = await startServer();
  });

  afterEach(() => {
    for (const socket of sockets) socket.close();
    sockets.clear();
  });

  after(async () => {
    const logs = suite.server?.logs() ?? '';
    await suite.server?.stop();
    assert.doesNotMatch(logs, /panicked/, `the server panicked:\n${logs}`);
  });

  return suite;
}

/** The fields of a message as the seed sends it in `new_message`. */
export const MESSAGE_FIELDS = [
  'id',
  'channel_id',
  'sender_id',
  'sender_username',
  'content',
  'created_at',
  'edited_at',
  'reply_to',
  'client_msg_id',
];

/** Asserts `message` has every seed field. */
export function assertMessageShape(message) {
  for (const field of MESSAGE_FIELDS) {
    assert.ok(
      message !== null && typeof message === 'object' && Object.hasOwn(message, field),
      `message lacks ${field}: ${JSON.stringify(message)}`,
    );
  }
}
