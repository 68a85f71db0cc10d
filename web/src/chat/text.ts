// Splits message text into plain text, links and mentions, so the view can
// render each as its own element. Nothing here produces HTML: the view puts
// every piece into the page as a text node (links as `<a>` with the text as
// content), which is what keeps user text from ever being markup.

export type Segment =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'mention'; text: string; username: string; me: boolean };

// The characters a username is made of (the server's rule).
const NAME_CHAR = '[A-Za-z0-9_.-]';
// What may stand right before a mention's `@`: the start, or anything but a
// word character or another `@` (so `bob@example.org` mentions nobody).
const LEAD = '(^|[^\\w@])';
// http(s) URLs, and @mentions of usernames (3-32 of the allowed characters).
const PATTERN = new RegExp(`(https?:\\/\\/[^\\s<>"]+)|${LEAD}@(${NAME_CHAR}{3,32})`, 'g');

/**
 * A mention being typed, for the composer's suggestions: `@` where a mention
 * may start, then 1-32 username characters, at the end of the text before
 * the caret. Group 2 is the typed part of the name. The same pieces as the
 * rule above, so that what is suggested is what gets highlighted.
 */
export const MENTION_TYPED = new RegExp(`${LEAD}@(${NAME_CHAR}{1,32})$`);
/** The rest of a username right after the caret (the suggestion replaces it too). */
export const NAME_REST = new RegExp(`^${NAME_CHAR}*`);
// Punctuation that usually ends a sentence rather than a URL.
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function segments(text: string, myUsername: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  const push = (segment: Segment) => {
    const prev = out.at(-1);
    if (segment.kind === 'text' && prev?.kind === 'text') prev.text += segment.text;
    else if (segment.kind !== 'text' || segment.text !== '') out.push(segment);
  };
  for (const match of text.matchAll(PATTERN)) {
    const index = match.index;
    if (match[1] !== undefined) {
      const url = match[1].replace(TRAILING, '');
      push({ kind: 'text', text: text.slice(last, index) });
      push({ kind: 'link', text: url, href: url });
      last = index + url.length;
    } else {
      const lead = match[2] ?? '';
      const username = match[3] ?? '';
      push({ kind: 'text', text: text.slice(last, index + lead.length) });
      push({ kind: 'mention', text: `@${username}`, username, me: username.toLowerCase() === myUsername.toLowerCase() });
      last = index + match[0].length;
    }
  }
  push({ kind: 'text', text: text.slice(last) });
  return out;
}

/** Whether the text mentions the user. */
export function mentions(text: string, username: string): boolean {
  return segments(text, username).some((s) => s.kind === 'mention' && s.me);
}
