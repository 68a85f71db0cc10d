// A message's text with its formatting: the tree of `chat/markdown.ts` built
// as Preact elements, every string a text node. No HTML string is ever made
// or inserted, so markup typed in a message stays text.

import { signal } from '@preact/signals';
import type { ComponentChildren } from 'preact';
import { useMemo } from 'preact/hooks';
import type { Highlighted } from '../../chat/highlight.ts';
import { markdown, type Block, type Inline } from '../../chat/markdown.ts';
import './formatting.css';

interface Props {
  text: string;
  /** The signed-in user, whose mentions are highlighted. */
  username: string;
  /** Shown at the end of the last paragraph (the "(edited)" note). */
  after?: ComponentChildren;
}

/** Message text as paragraphs, code, quotes, lists, links and mentions; never as HTML. */
export function MessageText({ text, username, after }: Props) {
  const tree = markdown(text);
  const me = username.toLowerCase();
  const last = tree.at(-1);
  const trailing = last?.kind === 'paragraph' ? null : after;
  return (
    <>
      {tree.map((block, i) => (
        <BlockView key={i} block={block} me={me} after={i === tree.length - 1 && last?.kind === 'paragraph' ? after : undefined} />
      ))}
      {trailing}
    </>
  );
}

function BlockView({ block, me, after }: { block: Block; me: string; after?: ComponentChildren }) {
  switch (block.kind) {
    case 'paragraph':
      return (
        <p>
          <InlineView nodes={block.children} me={me} />
          {after}
        </p>
      );
    case 'code':
      return <CodeBlock code={block.text} lang={block.lang} />;
    case 'quote':
      return (
        <blockquote>
          {block.children.map((b, i) => (
            <BlockView key={i} block={b} me={me} />
          ))}
        </blockquote>
      );
    case 'list': {
      const items = block.items.map((item, i) => (
        <li key={i}>
          {item.map((b, j) => (
            <BlockView key={j} block={b} me={me} />
          ))}
        </li>
      ));
      return block.ordered ? <ol start={block.start === 1 ? undefined : block.start}>{items}</ol> : <ul>{items}</ul>;
    }
  }
}

function InlineView({ nodes, me }: { nodes: readonly Inline[]; me: string }) {
  return (
    <>
      {nodes.map((node, i) => {
        switch (node.kind) {
          case 'text':
            return node.text;
          case 'br':
            return <br key={i} />;
          case 'code':
            return <code key={i}>{node.text}</code>;
          case 'strong':
          case 'em':
          case 'del': {
            const Tag = node.kind;
            return (
              <Tag key={i}>
                <InlineView nodes={node.children} me={me} />
              </Tag>
            );
          }
          case 'link':
            return (
              <a key={i} href={node.href} target="_blank" rel="noopener noreferrer nofollow">
                <InlineView nodes={node.children} me={me} />
              </a>
            );
          case 'mention': {
            const mine = node.username.toLowerCase() === me;
            return (
              <span key={i} class={`mention${mine ? ' mention-me' : ''}`}>
                {node.text}
              </span>
            );
          }
        }
      })}
    </>
  );
}

// The highlighter is its own chunk, fetched when the first code block with a
// language is shown; until then (and for unknown languages) code is plain.
type Highlighter = (code: string, lang: string) => Highlighted[] | null;
const highlighter = signal<Highlighter | null>(null);
let loading = false;

function loadHighlighter() {
  if (loading) return;
  loading = true;
  import('../../chat/highlight.ts').then(
    (module) => {
      highlighter.value = module.highlight;
    },
    () => {
      // Offline or a stale build: code stays plain, and a later block tries again.
      loading = false;
    },
  );
}

function CodeBlock({ code, lang }: { code: string; lang: string | null }) {
  const highlight = highlighter.value;
  if (lang !== null && highlight === null) loadHighlighter();
  const nodes = useMemo(() => (lang !== null && highlight !== null ? highlight(code, lang) : null), [code, lang, highlight]);
  return (
    <pre class="code-block" data-lang={lang ?? undefined}>
      <code>{nodes === null ? code : <HighlightedView nodes={nodes} />}</code>
    </pre>
  );
}

function HighlightedView({ nodes }: { nodes: readonly Highlighted[] }) {
  return (
    <>
      {nodes.map((node, i) =>
        typeof node === 'string' ? (
          node
        ) : (
          <span key={i} class={node.classes}>
            <HighlightedView nodes={node.children} />
          </span>
        ),
      )}
    </>
  );
}
