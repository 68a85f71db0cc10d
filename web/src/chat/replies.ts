// Replies: what a message answers, shown as a quoted snippet above it.
//
// The quoted message may not be loaded (older than the history held), may be
// deleted, or (in an encrypted channel) may not be readable in this browser;
// then the quote says the original is unavailable instead of guessing.

import type { Message } from '../api/messages.ts';

/** Longest snippet shown in a quote, in characters. */
export const SNIPPET_MAX = 120;

export type Quote =
  | { kind: 'loaded'; id: number; sender: string; snippet: string }
  | { kind: 'unavailable'; id: number };

/**
 * The quote for a reply. `textOf` gives a loaded message's readable text
 * (its decrypted text in encrypted channels), or null when it has none.
 */
export function resolveReply(replyTo: number, messages: readonly Message[], textOf: (m: Message) => string | null): Quote {
  const original = messages.find((m) => m.id === replyTo);
  if (original === undefined || original.deleted) return { kind: 'unavailable', id: replyTo };
  const text = textOf(original);
  if (text === null) return { kind: 'unavailable', id: replyTo };
  return { kind: 'loaded', id: replyTo, sender: original.sender_username ?? 'unknown', snippet: snippet(text) };
}

/** The text on one line, cut at `SNIPPET_MAX` characters with an ellipsis. */
export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= SNIPPET_MAX ? flat : `${chars.slice(0, SNIPPET_MAX - 1).join('')}…`;
}
