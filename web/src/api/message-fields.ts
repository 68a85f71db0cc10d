// The fields of a message the E2EE core reads to check and decrypt it, in a
// module that imports nothing: the service worker (src/sw/read.ts), which
// cannot load the page's modules, shares them with `messages.ts`.

/** What the core needs of a committed message (the server's description of it). */
export interface MessageFields {
  id: number;
  channel_id: number;
  sender_id: number | null;
  sender_username: string | null;
  content: string | null;
  envelope: string | null;
  key_version: number | null;
  reply_to: number | null;
  deleted: boolean;
  /** The thread it replies in (null in the channel itself); the core checks it against the envelope. */
  thread_root_id?: number | null;
  /** A thread reply also shown in the channel. */
  also_send_to_channel?: boolean;
}
