// Socket.IO connections made with the unmodified npm `socket.io-client`, and
// small helpers to wait for events and acknowledgements.

import assert from 'node:assert/strict';
import { io } from 'socket.io-client';

/** How long to wait for an event or an acknowledgement. */
export const WAIT_MS = 5_000;

/**
 * Opens a Socket.IO connection to the server's default namespace.
 *
 * - `cookie`: sent as a `Cookie` header on every handshake request.
 * - `token`: sent as the handshake's `auth: {token}`.
 * - `headers`: more extra headers (for example `Origin`).
 * - `transports`: as in `socket.io-client`; leave it out for the default
 *   (HTTP long-polling, upgraded to WebSocket).
 *
 * Every socket gets its own Engine.IO connection (`forceNew`), so two users
 * never share one, and does not reconnect by itself: tests decide when.
 */
export function openSocket(server, { cookie, token, headers = {}, transports, ...options } = {}) {
  const extraHeaders = { ...headers };
  if (cookie !== undefined) extraHeaders.Cookie = cookie;
  return io(server.url, {
    forceNew: true,
    reconnection: false,
    timeout: WAIT_MS,
    extraHeaders,
    ...(token === undefined ? {} : { auth: { token } }),
    ...(transports === undefined ? {} : { transports }),
    ...options,
  });
}

/** Resolves once `socket` is connected; rejects on `connect_error`. */
export function connected(socket) {
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      socket.off('connect_error', onError);
      resolve(socket);
    };
    const onError = (err) => {
      socket.off('connect', onConnect);
      reject(new Error(`connect_error: ${err.message}`, { cause: err }));
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
  });
}

/** Resolves with the `connect_error` error; rejects if the socket connects. */
export function refused(socket) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`neither connect nor connect_error within ${WAIT_MS} ms`));
    }, WAIT_MS * 2);
    const onConnect = () => {
      cleanup();
      reject(new Error(`the connection was accepted (socket id ${socket.id})`));
    };
    const onError = (err) => {
      cleanup();
      resolve(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('connect_error', onError);
    };
    socket.once('connect', onConnect);
    socket.once('connect_error', onError);
  });
}

/** Opens a socket and waits until it is connected. */
export async function connectAs(server, options) {
  const socket = openSocket(server, options);
  try {
    return await connected(socket);
  } catch (err) {
    socket.close();
    throw err;
  }
}

/** `emitWithAck` with a timeout; returns the acknowledgement. */
export function ask(socket, event, data) {
  return socket.timeout(WAIT_MS).emitWithAck(event, data);
}

/** Like `ask`, but asserts `success: true`. */
export async function askOk(socket, event, data) {
  const reply = await ask(socket, event, data);
  assert.equal(reply?.success, true, `${event} ${JSON.stringify(data)} → ${JSON.stringify(reply)}`);
  return reply;
}

/**
 * `send_message` like a well-behaved client: on `rate_limited` it waits the
 * time the server gives and retries with the same `client_msg_id`.
 */
export async function sendMessage(socket, payload) {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const reply = await ask(socket, 'send_message', payload);
    if (reply?.code !== 'rate_limited') return reply;
    await new Promise((resolve) => setTimeout(resolve, Math.max(1, reply.retry_after_ms ?? 100)));
  }
  throw new Error(`send_message still rate limited after 20 tries: ${JSON.stringify(payload)}`);
}

/**
 * Records every event a socket receives from the moment it is made, so a
 * test can wait for one that may already have arrived, or check that one
 * never did.
 */
export class Inbox {
  constructor(socket) {
    this.events = [];
    this.waiters = new Set();
    socket.onAny((name, ...args) => {
      this.events.push({ name, data: args[0], taken: false });
      for (const waiter of [...this.waiters]) waiter();
    });
  }

  /** Received events called `name` (taken or not). */
  all(name) {
    return this.events.filter((e) => e.name === name).map((e) => e.data);
  }

  /** The next not yet taken event called `name` that satisfies `match`. */
  next(name, match = () => true, timeoutMs = WAIT_MS) {
    const find = () => this.events.find((e) => !e.taken && e.name === name && match(e.data));
    return new Promise((resolve, reject) => {
      const check = () => {
        const event = find();
        if (event === undefined) return;
        event.taken = true;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(event.data);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        const seen = this.events.map((e) => e.name).join(', ') || 'nothing';
        reject(new Error(`no matching ${name} within ${timeoutMs} ms (received: ${seen})`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Asserts that no event called `name` matching `match` arrives within `windowMs`. */
  async none(name, match = () => true, windowMs = 500) {
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const unexpected = this.events.filter((e) => !e.taken && e.name === name && match(e.data));
    assert.deepEqual(
      unexpected.map((e) => e.data),
      [],
      `unexpected ${name} event(s)`,
    );
  }
}
