// The one Socket.IO connection of the page.
//
// Same origin, websocket transport only, authenticated by the session cookie
// (the server refuses cross-site and anonymous handshakes). socket.io-client
// reconnects by itself with backoff; the chat store re-joins its channels on
// every `connect`, resuming each after the last message it holds.

import { io, type Socket as IoSocket } from 'socket.io-client';
import type { ServerEvents } from './events.ts';

/** Client events: any name, any payload (their acks are typed by `request`). */
interface ClientEvents {
  [event: string]: (...args: any[]) => void;
}

/** The page's socket: its listeners are typed by the server's events. */
export type Socket = IoSocket<ServerEvents, ClientEvents>;

/** How an event's acknowledgement looks: the API's envelope. */
export type Ack<T> = ({ success: true } & T) | { success: false; message: string; code: string; retry_after_ms?: number };

/** The acknowledgement did not come (disconnected or timed out): the request may or may not have been applied. */
export class NoAnswer extends Error {}

const ACK_TIMEOUT_MS = 10_000;

export function connect(): Socket {
  return io({ path: '/socket.io/', transports: ['websocket'], withCredentials: true });
}

/** Emits an event and waits for its acknowledgement; throws `NoAnswer` when none comes. */
export async function request<T>(socket: Socket, event: string, payload: unknown): Promise<Ack<T>> {
  if (!socket.connected) throw new NoAnswer('not connected');
  try {
    return (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as Ack<T>;
  } catch {
    throw new NoAnswer('no acknowledgement');
  }
}
