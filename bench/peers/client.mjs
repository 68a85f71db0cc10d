// What the conformance and load checks share: socket.io-client (from
// bench/peers/node's devDependencies), JSON calls with a bearer token, and
// Socket.IO connections with a token handshake.

import { createRequire } from 'node:module';

const require = createRequire(new URL('./node/package.json', import.meta.url));
let io;
try {
  ({ io } = require('socket.io-client'));
} catch {
  console.error('socket.io-client is missing: run `npm ci` in bench/peers/node (or `make bench-peers`)');
  process.exit(2);
}

/** The base URL given as the first argument, or exits with a usage line. */
export function baseUrl(script) {
  const base = (process.argv[2] ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+$/.test(base)) {
    console.error(`usage: node ${script} http://127.0.0.1:PORT`);
    process.exit(2);
  }
  return base;
}

/** An HTTP call; returns `{status, body}` (body parsed as JSON when it is). */
export async function api(base, method, path, { token, body } = {}) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    return { status: res.status, body: text };
  }
}

/** A connected WebSocket-transport socket for `token`, or rejects with the connect_error. */
export function connect(base, token) {
  return new Promise((resolve, reject) => {
    const socket = io(base, {
      auth: token === undefined ? {} : { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no connect or connect_error within 10 s'));
    }, 10000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(e);
    });
  });
}

/** An event with an ack, rejecting after `ms`. */
export const emitAck = (socket, event, data, ms = 10000) => socket.timeout(ms).emitWithAck(event, data);
