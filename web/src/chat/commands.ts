// Slash commands typed in the composer: the one rule for reading a command
// line (its name, its text, the people it names), the suggestions shown
// while a trigger is typed, and what a line asks for (`planCommand`). The
// built-ins run here and call the ordinary API (whose authorization is the
// server's); registered commands go to `POST /api/channels/{id}/commands`,
// in plaintext channels only — in an encrypted one the text would reach
// the server, so the composer refuses before sending anything.
//
// `/me waves` is carried as the message text `/me waves`, in plaintext and
// inside the encrypted envelope alike, and shown as an action ("* alice
// waves"): `actionOf` is the one place that reads it.

/** The client's own commands, in the order the suggestions list them. */
export const BUILT_INS = ['me', 'topic', 'invite', 'kick', 'leave', 'mute', 'remind', 'help'] as const;
export type BuiltIn = (typeof BUILT_INS)[number];

/** Built-ins that take an argument, with its hint. */
export const BUILT_IN_HINTS: Record<BuiltIn, string> = {
  me: '<action>',
  topic: '<text>',
  invite: '@user',
  kick: '@user',
  leave: '',
  mute: '',
  remind: 'me in 10 minutes to <note> | me at 16:30 <note>',
  help: '',
};

/** The longest trigger (as the server's). */
const MAX_TRIGGER = 32;
const TRIGGER = /^\/([a-z0-9_-]{1,32})(?=\s|$)/i;

/** A command line: `/name text…`. */
export interface CommandLine {
  /** Lower case, without the slash. */
  name: string;
  /** Everything after the name, trimmed. */
  text: string;
  /** The `@names` in the text, in order, without the `@`. */
  mentions: string[];
}

/**
 * Reads a composer line as a command, or null when it is a message: it must
 * start with `/` and a trigger followed by a space or the end (so `/path/to`
 * or `/ 2` are text). `//text` sends `/text` as a message.
 */
export function parseCommand(line: string): CommandLine | null {
  const match = TRIGGER.exec(line.trimStart());
  if (match === null) return null;
  const name = (match[1] ?? '').toLowerCase();
  const text = line.trimStart().slice(match[0].length).trim();
  const mentions = [...text.matchAll(/(?:^|\s)@([\p{L}\p{N}_.-]+)/gu)].map((m) => m[1] ?? '');
  return { name, text, mentions };
}

/** The text a line starting with `//` sends (one slash fewer), else null. */
export function escapedSlash(line: string): string | null {
  return line.startsWith('//') ? line.slice(1) : null;
}

/** A registered command as the composer lists it. */
export interface RegisteredCommand {
  trigger: string;
  description: string;
  usage_hint: string;
}

export interface Suggestion {
  name: string;
  hint: string;
  /** Registered commands' own description; built-ins' come from the catalogue. */
  description: string | null;
  builtIn: boolean;
}

/** The longest list shown. */
export const MAX_COMMAND_SUGGESTIONS = 10;

/**
 * The commands to suggest while a trigger is being typed (the box holds `/`
 * and the start of a name, nothing after): built-ins first, then the
 * room's, whose names start with what was typed. Null when no trigger is
 * being typed.
 */
export function suggestCommands(text: string, registered: readonly RegisteredCommand[]): Suggestion[] | null {
  const match = /^\/([a-z0-9_-]*)$/i.exec(text);
  if (match === null) return null;
  const query = (match[1] ?? '').toLowerCase();
  if (query.length > MAX_TRIGGER) return [];
  const builtIns: Suggestion[] = BUILT_INS.filter((n) => n.startsWith(query)).map((name) => ({ name, hint: BUILT_IN_HINTS[name], description: null, builtIn: true }));
  const own: Suggestion[] = registered
    .filter((c) => c.trigger.startsWith(query) && !(BUILT_INS as readonly string[]).includes(c.trigger))
    .map((c) => ({ name: c.trigger, hint: c.usage_hint, description: c.description, builtIn: false }));
  return [...builtIns, ...own].slice(0, MAX_COMMAND_SUGGESTIONS);
}

/** What a command line asks the composer to do. */
export type Plan =
  | { kind: 'me'; text: string }
  | { kind: 'topic'; topic: string }
  | { kind: 'invite' | 'kick'; username: string }
  | { kind: 'leave' | 'mute' | 'help' }
  /** `/remind`: when (ms since the epoch) and what. */
  | { kind: 'remind'; dueAt: number; note: string }
  | { kind: 'registered'; name: string; text: string }
  /** The command needs an argument it was not given. */
  | { kind: 'usage'; name: BuiltIn; hint: string }
  /** No such command here. */
  | { kind: 'unknown'; name: string }
  /** A registered command in an encrypted channel: refused without sending. */
  | { kind: 'encrypted'; name: string };

/** The plan for `line` (null: it is a message), given the room's registered triggers and whether the channel is encrypted. */
export function planCommand(line: string, registered: readonly string[], encrypted: boolean, now: Date = new Date()): Plan | null {
  const parsed = parseCommand(line);
  if (parsed === null) return null;
  const { name, text, mentions } = parsed;
  const usage = (n: BuiltIn): Plan => ({ kind: 'usage', name: n, hint: BUILT_IN_HINTS[n] });
  switch (name) {
    case 'me':
      return text === '' ? usage('me') : { kind: 'me', text };
    case 'topic':
      return { kind: 'topic', topic: text };
    case 'invite':
    case 'kick': {
      const username = mentions[0] ?? (/^[\p{L}\p{N}_.-]+$/u.test(text) ? text : undefined);
      return username === undefined ? usage(name) : { kind: name, username };
    }
    case 'leave':
    case 'mute':
    case 'help':
      return { kind: name };
    case 'remind': {
      const when = parseRemind(text, now);
      return when === null ? usage('remind') : { kind: 'remind', ...when };
    }
  }
  if (!registered.includes(name)) return { kind: 'unknown', name };
  if (encrypted) return { kind: 'encrypted', name };
  return { kind: 'registered', name, text };
}

/** The message text `/me` sends. */
export function meText(action: string): string {
  return `/me ${action}`;
}

/** The action of a `/me` message ("waves" of `/me waves`), or null for any other text. */
export function actionOf(text: string): string | null {
  const match = /^\/me\s+(\S[\s\S]*)$/.exec(text);
  return match === null ? null : (match[1] ?? '').trim();
}

const UNITS: Record<string, number> = { m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000, w: 604_800_000, week: 604_800_000, weeks: 604_800_000 };

/**
 * Reads `/remind`'s text, as Slack and Mattermost do: `[me] in <n> <unit>
 * [to] <note>` (minutes, hours, days, weeks) or `[me] at <HH:MM> [to]
 * <note>` (today, or tomorrow once that time has passed, in local time).
 * Null when it says neither; the note may be empty.
 */
export function parseRemind(text: string, now: Date): { dueAt: number; note: string } | null {
  const rest = text.replace(/^me\s+/i, '');
  const relative = /^in\s+(\d{1,4})\s*([a-z]+)\b\s*(?:to\s+)?([\s\S]*)$/i.exec(rest);
  if (relative !== null) {
    const unit = UNITS[(relative[2] ?? '').toLowerCase()];
    const count = Number(relative[1]);
    if (unit === undefined || count < 1) return null;
    return { dueAt: now.getTime() + count * unit, note: (relative[3] ?? '').trim() };
  }
  const clock = /^at\s+(\d{1,2}):(\d{2})\b\s*(?:to\s+)?([\s\S]*)$/i.exec(rest);
  if (clock !== null) {
    const hours = Number(clock[1]);
    const minutes = Number(clock[2]);
    if (hours > 23 || minutes > 59) return null;
    const due = new Date(now);
    due.setHours(hours, minutes, 0, 0);
    if (due.getTime() <= now.getTime()) due.setDate(due.getDate() + 1);
    return { dueAt: due.getTime(), note: (clock[3] ?? '').trim() };
  }
  return null;
}
