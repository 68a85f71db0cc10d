// Where the chat's data flow tells the local search index about messages:
// the E2EE engine after it decrypted some, the chat store when one was
// edited or deleted. A module of its own with no imports, so the engine and
// the store depend on it without depending on the index (which depends on
// them); `search/local.ts` sets the hooks when the index is open.

import type { Message } from '../api/messages.ts';

/** What the engine made of a message, as far as the index cares: `text` (kind 'text') and what the sender says it is. */
export interface Readable {
  kind: string;
  text?: string;
  what?: string | null;
}

export interface SearchHooks {
  /** Messages of encrypted channels this page decrypted, with what each showed. */
  decrypted(messages: readonly Message[], results: Readonly<Record<number, Readable>>): void;
  /** A message was edited (its new envelope arrived). */
  edited(message: Message): void;
  /** A new message arrived live (its channel may not be on screen). */
  arrived(message: Message): void;
  /** A message was deleted. */
  deleted(id: number): void;
}

const none: SearchHooks = { decrypted: () => undefined, edited: () => undefined, arrived: () => undefined, deleted: () => undefined };

/** The hooks in force; every call is a cheap no-op until the index is open. */
export const searchHooks: SearchHooks = { ...none };

/** Installs the index's hooks (null: back to no-ops). */
export function setSearchHooks(hooks: SearchHooks | null): void {
  Object.assign(searchHooks, hooks ?? none);
}
