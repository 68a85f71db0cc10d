// Reactions on messages: a small fixed set of emoji, counted per message.
//
// The server is authoritative for counts: history carries each message's
// reactions (with whether I am among the reactors), and every toggle is
// broadcast as `reaction_updated` with the new counts for all emoji of the
// message. Whether I reacted is known from history and from the events whose
// `user_id` is mine; another person's toggle never changes it.

import { t } from '../i18n/index.ts';

/** The picker's emoji, in the order shown. */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '👀'] as const;

/** Short names of the reaction set, in the UI's language. */
const EMOJI_NAMES: Readonly<Record<string, () => string>> = {
  '👍': () => t('emoji.thumbsUp'),
  '❤️': () => t('emoji.heart'),
  '😂': () => t('emoji.laughing'),
  '🎉': () => t('emoji.party'),
  '😮': () => t('emoji.surprised'),
  '👀': () => t('emoji.eyes'),
};

/** A readable name for an emoji, for labels read out by screen readers. */
export function emojiName(emoji: string): string {
  return EMOJI_NAMES[emoji]?.() ?? emoji;
}

export interface Reaction {
  emoji: string;
  count: number;
  /** The signed-in user is one of the reactors. */
  me: boolean;
}

/** The `reaction_updated` event (and the `react` acknowledgement). */
export interface ReactionEvent {
  message_id: number;
  channel_id: number;
  user_id: number;
  emoji: string;
  on: boolean;
  reactions: readonly { emoji: string; count: number }[];
}

export type ReactionsByMessage = Readonly<Record<number, readonly Reaction[]>>;

/** The reactions of a message after a toggle by anyone, keeping the order of `REACTION_EMOJI` first. */
export function applyReactionEvent(current: readonly Reaction[], event: ReactionEvent, myId: number): Reaction[] {
  const mineBefore = new Set(current.filter((r) => r.me).map((r) => r.emoji));
  if (event.user_id === myId) {
    if (event.on) mineBefore.add(event.emoji);
    else mineBefore.delete(event.emoji);
  }
  return sortReactions(
    event.reactions.filter((r) => r.count > 0).map((r) => ({ emoji: r.emoji, count: r.count, me: mineBefore.has(r.emoji) })),
  );
}

/** Merges one event into the per-message map; unchanged when nothing differs. */
export function withReactionEvent(all: ReactionsByMessage, event: ReactionEvent, myId: number): ReactionsByMessage {
  const next = applyReactionEvent(all[event.message_id] ?? [], event, myId);
  return { ...all, [event.message_id]: next };
}

/** Takes the reactions carried by loaded messages (history is a fresher snapshot than what was held). */
export function withLoaded(all: ReactionsByMessage, messages: readonly { id: number; reactions?: readonly Reaction[] | null }[]): ReactionsByMessage {
  let next: Record<number, readonly Reaction[]> | null = null;
  for (const m of messages) {
    if (m.reactions == null) continue;
    next ??= { ...all };
    next[m.id] = sortReactions(m.reactions.filter((r) => r.count > 0));
  }
  return next ?? all;
}

function rank(emoji: string): number {
  const i = (REACTION_EMOJI as readonly string[]).indexOf(emoji);
  return i === -1 ? REACTION_EMOJI.length : i;
}

function sortReactions(list: Reaction[]): Reaction[] {
  return list.sort((a, b) => rank(a.emoji) - rank(b.emoji) || a.emoji.localeCompare(b.emoji));
}
