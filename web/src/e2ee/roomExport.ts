// A room's encrypted channels exported from this browser. The server keeps
// them as ciphertext, so the room's export (from the server) holds them
// encrypted; this reads each channel's history page by page with the keys
// this browser holds (`readForIndex`, which shows nothing and records
// nothing in the timeline) and writes the text into a zip made here: the
// plaintext never leaves the browser.

import { strToU8, zipSync } from 'fflate';
import { newerThan } from '../api/messages.ts';
import type { Channel, RoomWithChannels } from '../api/rooms.ts';
import { readForIndex, type Decryption } from './engine.ts';

/** A message as the decrypted export writes it. */
export interface ExportedLine {
  id: number;
  sender_id: number | null;
  sender_username: string | null;
  created_at: string;
  edited_at: string | null;
  thread_root_id: number | null;
  reply_to: number | null;
  /** What the sender says it is (`message`, `edit`, `file`, `resource`), when it says. */
  what: string | null;
  /** The text; null when this browser could not read it (`unreadable` says why). */
  text: string | null;
  unreadable?: string;
}

/** Why a message could not be read. */
function unreadable(r: Decryption | undefined): string {
  if (r === undefined) return 'unreadable';
  if (r.kind === 'no-key') return `no key for version ${r.version}`;
  if (r.kind === 'warning') return r.reason;
  return 'unreadable';
}

/** Messages read per page. */
const PAGE = 200;

/** Every message of `channel` this browser can read, oldest first; `onPage` after each page with the count so far. */
export async function decryptChannel(channel: Channel, onPage: (count: number) => void): Promise<ExportedLine[]> {
  const lines: ExportedLine[] = [];
  let after = 0;
  for (;;) {
    const page = await newerThan(channel.id, after, PAGE);
    const read = await readForIndex(page.messages);
    for (const m of page.messages) {
      if (m.deleted) continue;
      const r = read[m.id];
      const text = r?.kind === 'text' ? r.text : null;
      lines.push({
        id: m.id,
        sender_id: m.sender_id,
        sender_username: m.sender_username,
        created_at: m.created_at,
        edited_at: m.edited_at,
        thread_root_id: m.thread_root_id ?? null,
        reply_to: m.reply_to,
        what: r?.kind === 'text' ? r.what : null,
        text,
        ...(text === null ? { unreadable: unreadable(r) } : {}),
      });
    }
    onPage(lines.length);
    const last = page.messages.at(-1);
    if (!page.has_more || last === undefined) return lines;
    after = last.id;
  }
}

/** A script-free page of one channel: who, when, and the text as text (escaped by the DOM). */
export function channelPage(roomName: string, channel: Channel, lines: readonly ExportedLine[]): string {
  const doc = document.implementation.createHTMLDocument(`#${channel.name} — ${roomName}`);
  doc.documentElement.lang = 'en';
  const meta = doc.createElement('meta');
  meta.setAttribute('charset', 'utf-8');
  doc.head.prepend(meta);
  const h1 = doc.createElement('h1');
  h1.textContent = `#${channel.name} — ${roomName}`;
  doc.body.append(h1);
  for (const line of lines) {
    const article = doc.createElement('article');
    const who = doc.createElement('strong');
    who.textContent = line.sender_username ?? '?';
    const when = doc.createElement('time');
    when.dateTime = line.created_at;
    when.textContent = ` ${line.created_at}`;
    const text = doc.createElement('p');
    text.style.whiteSpace = 'pre-wrap';
    text.textContent = line.text ?? `(${line.unreadable ?? 'unreadable'})`;
    article.append(who, when, text);
    doc.body.append(article);
  }
  return `<!doctype html>\n${doc.documentElement.outerHTML}\n`;
}

/** The zip of `room`'s encrypted channels, decrypted here (JSON and a page per channel), with how many messages it holds and how many this browser could not read. */
export async function decryptedArchive(room: RoomWithChannels, onProgress: (count: number) => void): Promise<{ blob: Blob; count: number; unreadable: number }> {
  const files: Record<string, Uint8Array> = {};
  const channels = room.channels.filter((c) => c.is_encrypted);
  let done = 0;
  const manifest = [];
  for (const channel of channels) {
    const lines = await decryptChannel(channel, (n) => onProgress(done + n));
    done += lines.length;
    const base = `channels/${channel.id}-${channel.name.replace(/[/\\]/g, '_')}`;
    files[`${base}.json`] = strToU8(JSON.stringify(lines, null, 1));
    files[`${base}.html`] = strToU8(channelPage(room.name, channel, lines));
    manifest.push({ id: channel.id, name: channel.name, messages: `${base}.json`, count: lines.length, unreadable: lines.filter((l) => l.text === null).length });
  }
  files['room.json'] = strToU8(JSON.stringify({ format: 'securechat-room-decrypted-1', exported_at: new Date().toISOString(), room: { id: room.id, name: room.name }, channels: manifest }, null, 1));
  const blob = new Blob([zipSync(files, { level: 6 }) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
  return { blob, count: done, unreadable: manifest.reduce((n, c) => n + c.unreadable, 0) };
}
