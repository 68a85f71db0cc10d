// Message text as a small tree of blocks and inline pieces: the safe subset of
// CommonMark (with GFM strikethrough and autolinks) that a chat renders.
//
// `marked`'s lexer does the parsing; this module only reads its tokens and
// keeps what the chat shows: bold, italic, strikethrough, inline code, fenced
// (and indented) code blocks, block quotes, lists, links and line breaks,
// plus the mentions and bare links of `text.ts`. Single newlines are kept. Nothing here produces HTML:
// the view builds one element per node and puts every string in as a text
// node. Raw HTML in the source, images, headings, tables and rules are shown
// as the text that was typed, and a link whose target is not http(s) or
// mailto is shown as its source text, not as a link.

import { Lexer, type Token, type Tokens } from 'marked';
import { segments } from './text.ts';

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'mention'; text: string; username: string }
  | { kind: 'link'; href: string; children: Inline[] }
  | { kind: 'strong' | 'em' | 'del'; children: Inline[] }
  | { kind: 'code'; text: string }
  | { kind: 'br' };

export type Block =
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'code'; lang: string | null; text: string }
  | { kind: 'quote'; children: Block[] }
  | { kind: 'list'; ordered: boolean; start: number; items: Block[][] };

/** Link targets that become links; anything else stays text. */
const SAFE_HREF = /^(https?:\/\/|mailto:)/i;

/** Whether a link target may be a link in a message. */
export function safeHref(href: string): boolean {
  return SAFE_HREF.test(href.trim());
}

// A single newline stays a newline in the text (the view keeps white space,
// so it shows as a line break and is copied as one); two spaces or a
// backslash before it make a `br` as in CommonMark.
const OPTIONS = { gfm: true, breaks: false } as const;

/** Parses message text; pure, and the same text always gives an equal tree. */
export function parseMarkdown(text: string): Block[] {
  const tokens = new Lexer(OPTIONS).lex(text);
  return blocks(tokens);
}

// Parsed trees are kept per text, so a 250-message timeline is parsed once
// and re-renders (a new message, a reaction, typing) cost no parsing.
const CACHE_SIZE = 2000;
const cache = new Map<string, Block[]>();

/** `parseMarkdown`, remembered for the last few thousand texts. */
export function markdown(text: string): Block[] {
  const hit = cache.get(text);
  if (hit !== undefined) {
    // Most recently used last, so the oldest is evicted first.
    cache.delete(text);
    cache.set(text, hit);
    return hit;
  }
  const tree = parseMarkdown(text);
  cache.set(text, tree);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return tree;
}

function blocks(tokens: readonly Token[]): Block[] {
  const out: Block[] = [];
  for (const token of tokens) {
    const t = token as Tokens.Generic;
    switch (token.type) {
      case 'space':
        break;
      case 'paragraph':
        out.push({ kind: 'paragraph', children: inlines((t as Tokens.Paragraph).tokens) });
        break;
      case 'text':
        // A tight list item's text: its inline tokens, or plain text.
        out.push({ kind: 'paragraph', children: t.tokens !== undefined ? inlines(t.tokens) : plain(t.text as string) });
        break;
      case 'code': {
        const code = t as Tokens.Code;
        const lang = code.lang?.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
        out.push({ kind: 'code', lang: lang === '' ? null : lang, text: code.text });
        break;
      }
      case 'blockquote':
        out.push({ kind: 'quote', children: blocks((t as Tokens.Blockquote).tokens) });
        break;
      case 'list': {
        const list = t as Tokens.List;
        out.push({
          kind: 'list',
          ordered: list.ordered,
          start: typeof list.start === 'number' ? list.start : 1,
          items: list.items.map((item) => blocks(taskless(item))),
        });
        break;
      }
      default:
        // Headings, tables, rules, raw HTML and anything newer: the typed text.
        out.push({ kind: 'paragraph', children: plain(token.raw.replace(/\n+$/, '')) });
    }
  }
  return out;
}

/** A list item's tokens; a GFM task item keeps its `[ ]` / `[x]` as text. */
function taskless(item: Tokens.ListItem): Token[] {
  if (!item.task) return item.tokens;
  const mark = item.checked === true ? '[x] ' : '[ ] ';
  const [first, ...rest] = item.tokens.filter((t) => t.type !== 'checkbox');
  if (first !== undefined && (first.type === 'text' || first.type === 'paragraph') && 'tokens' in first && first.tokens !== undefined) {
    return [{ ...first, tokens: [{ type: 'text', raw: mark, text: mark }, ...first.tokens] } as Token, ...rest];
  }
  return [{ type: 'paragraph', raw: mark, text: mark, tokens: [{ type: 'text', raw: mark, text: mark }] } as Token, ...(first === undefined ? [] : [first]), ...rest];
}

function inlines(tokens: readonly Token[] | undefined): Inline[] {
  const out: Inline[] = [];
  // Adjacent text (the lexer splits text at characters that might start
  // markup) is joined before mentions and bare links are looked for.
  let pending = '';
  const flush = () => {
    if (pending !== '') out.push(...plain(pending));
    pending = '';
  };
  for (const token of tokens ?? []) {
    const t = token as Tokens.Generic;
    switch (token.type) {
      case 'text':
        if (t.tokens !== undefined && t.tokens.length > 0) {
          flush();
          out.push(...inlines(t.tokens));
        } else pending += t.text as string;
        break;
      case 'escape':
        pending += t.text as string;
        break;
      case 'strong':
      case 'em':
      case 'del':
        flush();
        out.push({ kind: token.type, children: inlines(t.tokens) });
        break;
      case 'codespan':
        flush();
        out.push({ kind: 'code', text: t.text as string });
        break;
      case 'br':
        flush();
        out.push({ kind: 'br' });
        break;
      case 'link': {
        const link = t as Tokens.Link;
        if (safeHref(link.href)) {
          flush();
          out.push({ kind: 'link', href: link.href.trim(), children: linkText(link.tokens) });
        } else pending += link.raw;
        break;
      }
      default:
        // Raw HTML, images and anything unknown: the typed text.
        pending += token.raw;
    }
  }
  flush();
  return out;
}

/** A link's content: its formatting, without mentions or links inside. */
function linkText(tokens: readonly Token[]): Inline[] {
  return inlines(tokens).flatMap((node) => (node.kind === 'mention' ? [{ kind: 'text', text: node.text } as const] : node.kind === 'link' ? node.children : [node]));
}

/** Plain text with its mentions and bare http(s) links. */
function plain(text: string): Inline[] {
  return segments(text, '').map((s): Inline =>
    s.kind === 'text' ? { kind: 'text', text: s.text } : s.kind === 'link' ? { kind: 'link', href: s.href, children: [{ kind: 'text', text: s.text }] } : { kind: 'mention', text: s.text, username: s.username },
  );
}
