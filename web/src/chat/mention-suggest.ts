// The composer's mention suggestions, as pure rules: which `@name` the caret
// is in, which members match it and in what order, and the text once one is
// picked. The pattern of a mention is text.ts's, the one the message view
// highlights, so a picked suggestion is always a mention there.

import { MENTION_TYPED, NAME_REST } from './text.ts';
import { channelWideNames } from './mentions.ts';

/** The most suggestions shown at once. */
export const MAX_SUGGESTIONS = 8;

/** The `@name` being typed: `text.slice(start, end)` is replaced by the pick; `query` is what was typed of the name. */
export interface MentionFragment {
  start: number;
  end: number;
  query: string;
}

/**
 * The mention being typed at `caret` in `text`, or null: an `@` where a
 * mention may start (not inside `bob@example.org`), then at least one
 * username character up to the caret. The name may go on after the caret
 * (the caret was moved back into it); the whole of it is replaced.
 */
export function fragmentAt(text: string, caret: number): MentionFragment | null {
  const match = MENTION_TYPED.exec(text.slice(0, caret));
  if (match === null) return null;
  const query = match[2] ?? '';
  const rest = NAME_REST.exec(text.slice(caret))?.[0] ?? '';
  return { start: caret - query.length - 1, end: caret + rest.length, query };
}

export interface Candidate {
  user_id: number;
  username: string;
  /** Matched too (after the username), when the person set one. */
  display_name?: string | null;
}

/**
 * The members matching `query` (case ignored), best first: usernames that
 * start with it, then usernames or display names that contain it, each alphabetically; I come last
 * whatever my match (as in Slack: one mostly mentions others). At most
 * `MAX_SUGGESTIONS`. None for a mention of everyone (`@channel`, `@here`,
 * `@everyone`, `@room`: the core's names), which is complete as typed:
 * Enter then sends it rather than putting in a member whose name merely
 * contains the word.
 */
export function rankCandidates<T extends Candidate>(members: readonly T[], query: string, myId: number): T[] {
  const q = query.toLowerCase();
  if (channelWideNames().has(q)) return [];
  const scored: { member: T; rank: number; name: string }[] = [];
  for (const member of members) {
    const name = member.username.toLowerCase();
    let at = name.indexOf(q);
    // A display name's match ranks with the names that contain the query.
    if (at < 0 && (member.display_name ?? '').toLowerCase().includes(q)) at = 1;
    if (at < 0) continue;
    const rank = (member.user_id === myId ? 2 : 0) + (at === 0 ? 0 : 1);
    scored.push({ member, rank, name });
  }
  scored.sort((a, b) => a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return scored.slice(0, MAX_SUGGESTIONS).map((s) => s.member);
}

/**
 * The text with the fragment replaced by `@username ` and where the caret
 * goes (after the space). A space already there is reused, not doubled.
 */
export function insertMention(text: string, fragment: MentionFragment, username: string): { text: string; caret: number } {
  const after = text.slice(fragment.end);
  const mention = `@${username}`;
  const spaced = /^\s/.test(after) ? mention : `${mention} `;
  return { text: text.slice(0, fragment.start) + spaced + after, caret: fragment.start + mention.length + 1 };
}

/**
 * The channel-wide names (`channel`, `here`, `everyone`, `room`) that start
 * with `query` but are not yet all of it, alphabetically; none unless
 * `allowed` (the room lets me use them: chat/mentions.ts).
 */
export function channelWideCandidates(query: string, allowed: boolean): string[] {
  const q = query.toLowerCase();
  if (!allowed || q === '') return [];
  return [...channelWideNames()].filter((name) => name.startsWith(q) && name !== q).sort();
}
