// The handshake: `auth: {token}` works instead of the cookie; anonymous and
// cross-site handshakes are refused with `connect_error` — over WebSocket
// only and with the default transports (long-polling first).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findChannel, login } from './lib/api.mjs';
import { askOk, refused } from './lib/socket.mjs';
import { serverSuite } from './lib/suite.mjs';

const suite = serverSuite();

/**
 * A cross-site handshake is refused either by the Socket.IO handshake
 * middleware (a CONNECT_ERROR packet: over WebSocket) or, over long-polling,
 * already by the HTTP layer's cross-site guard, which answers the POST that
 * carries the CONNECT packet with 403 (the client reports a TransportError).
 */
function assertCrossSiteRefusal(error, transports) {
  if (error.type === 'TransportError' && transports === undefined) {
    assert.equal(error.description, 403, `refused by HTTP status ${error.description}: ${error.message}`);
  } else {
    assert.match(error.message, /cross-site/i);
  }
}

const TRANSPORTS = [
  ['WebSocket only', ['websocket']],
  ['default transports', undefined],
];

for (const [label, transports] of TRANSPORTS) {
  test(`auth: {token} authenticates without a cookie (${label})`, async () => {
    const { server } = suite;
    const alice = await login(server, 'alice');
    const { channelId } = await findChannel(server, alice, 'Lobby', 'general');
    const socket = await suite.connect({ token: alice.token, transports });
    const joined = await askOk(socket, 'join_channel', { channel_id: channelId });
    assert.equal(joined.channel_id, channelId);
    const sent = await askOk(socket, 'send_message', {
      channel_id: channelId,
      content: `by token, ${label}`,
      client_msg_id: `token-${transports?.join('-') ?? 'default'}`,
    });
    assert.equal(sent.message.sender_username, 'alice');
  });

  test(`an anonymous handshake gets connect_error (${label})`, async () => {
    const socket = suite.open({ transports });
    const error = await refused(socket);
    assert.ok(error instanceof Error);
    assert.match(error.message, /not signed in/i);
    assert.equal(socket.connected, false);
  });

  test(`a bad token or cookie gets connect_error (${label})`, async () => {
    const byToken = await refused(suite.open({ token: 'not-a-session', transports }));
    assert.match(byToken.message, /not signed in/i);
    const byCookie = await refused(suite.open({ cookie: 'session=not-a-session', transports }));
    assert.match(byCookie.message, /not signed in/i);
  });

  test(`a cross-site Origin gets connect_error even with a valid cookie (${label})`, async () => {
    const { server } = suite;
    const alice = await login(server, 'alice');
    const evil = suite.open({ cookie: alice.cookie, headers: { Origin: 'https://evil.example' }, transports });
    assertCrossSiteRefusal(await refused(evil), transports);
    const evilToken = suite.open({ token: alice.token, headers: { Origin: 'https://evil.example' }, transports });
    assertCrossSiteRefusal(await refused(evilToken), transports);

    // The same cookie with the server's own Origin is welcome.
    const same = await suite.connect({ cookie: alice.cookie, headers: { Origin: server.url }, transports });
    assert.equal(same.connected, true);
  });
}
