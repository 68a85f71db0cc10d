import { describe, expect, it } from 'vitest';
import { highlight } from './highlight.ts';
import { markdown, parseMarkdown, safeHref, type Block, type Inline } from './markdown.ts';

const text = (t: string): Inline => ({ kind: 'text', text: t });
const para = (...children: Inline[]): Block => ({ kind: 'paragraph', children });

/** All text of a tree, in order, as a reader sees it. */
function flat(blocks: readonly Block[]): string {
  const inline = (nodes: readonly Inline[]): string =>
    nodes.map((n) => (n.kind === 'br' ? '\n' : 'children' in n ? inline(n.children) : n.text)).join('');
  return blocks
    .map((b) => (b.kind === 'paragraph' ? inline(b.children) : b.kind === 'code' ? b.text : b.kind === 'quote' ? flat(b.children) : b.items.map(flat).join('|')))
    .join('\n\n');
}

describe('parseMarkdown', () => {
  it('reads bold, italic, strikethrough and inline code', () => {
    expect(parseMarkdown('**b** _i_ ~~s~~ `a<b>`')).toEqual([
      para(
        { kind: 'strong', children: [text('b')] },
        text(' '),
        { kind: 'em', children: [text('i')] },
        text(' '),
        { kind: 'del', children: [text('s')] },
        text(' '),
        { kind: 'code', text: 'a<b>' },
      ),
    ]);
  });

  it('keeps plain text as one paragraph, and single newlines in it', () => {
    expect(parseMarkdown('hello world')).toEqual([para(text('hello world'))]);
    expect(parseMarkdown('one\ntwo')).toEqual([para(text('one\ntwo'))]);
    expect(parseMarkdown('one\\\ntwo')).toEqual([para(text('one'), { kind: 'br' }, text('two'))]);
    expect(parseMarkdown('snake_case_name and file_1_2.txt')).toEqual([para(text('snake_case_name and file_1_2.txt'))]);
  });

  it('reads fenced code blocks with their language, and keeps markup in them as text', () => {
    expect(parseMarkdown('```JS\nconst a = "<script>alert(1)</script>";\n```')).toEqual([
      { kind: 'code', lang: 'js', text: 'const a = "<script>alert(1)</script>";' },
    ]);
    expect(parseMarkdown('```\n**not bold**\n```')).toEqual([{ kind: 'code', lang: null, text: '**not bold**' }]);
  });

  it('reads block quotes and lists', () => {
    expect(parseMarkdown('> quoted **text**')).toEqual([{ kind: 'quote', children: [para(text('quoted '), { kind: 'strong', children: [text('text')] })] }]);
    expect(parseMarkdown('- one\n- two')).toEqual([{ kind: 'list', ordered: false, start: 1, items: [[para(text('one'))], [para(text('two'))]] }]);
    expect(parseMarkdown('3. three\n4. four')).toEqual([{ kind: 'list', ordered: true, start: 3, items: [[para(text('three'))], [para(text('four'))]] }]);
  });

  it('shows raw HTML as the text that was typed', () => {
    const tree = parseMarkdown('a <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<div>block</div>');
    expect(flat(tree)).toBe('a <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<div>block</div>');
    expect(JSON.stringify(tree)).not.toContain('"kind":"link"');
  });

  it('makes links only of http, https and mailto targets', () => {
    expect(parseMarkdown('[docs](https://example.org/x)')).toEqual([para({ kind: 'link', href: 'https://example.org/x', children: [text('docs')] })]);
    expect(parseMarkdown('[mail](mailto:a@example.org)')).toEqual([para({ kind: 'link', href: 'mailto:a@example.org', children: [text('mail')] })]);
    for (const bad of ['[x](javascript:alert(1))', '[x](JavaScript:alert(1))', '[x](data:text/html,hi)', '[x](/relative)', '<javascript:alert(1)>']) {
      const tree = parseMarkdown(bad);
      expect(JSON.stringify(tree), bad).not.toContain('"kind":"link"');
      expect(flat(tree), bad).toBe(bad);
    }
    // An image is not loaded: its source is text, with the address as a plain link.
    expect(flat(parseMarkdown('![img](https://example.org/i.png)'))).toBe('![img](https://example.org/i.png)');
    expect(safeHref(' HTTPS://x')).toBe(true);
    expect(safeHref('vbscript:x')).toBe(false);
  });

  it('keeps bare links and mentions', () => {
    expect(parseMarkdown('see https://example.org/a_b. cc @bob_smith')).toEqual([
      para(text('see '), { kind: 'link', href: 'https://example.org/a_b', children: [text('https://example.org/a_b')] }, text('. cc '), { kind: 'mention', text: '@bob_smith', username: 'bob_smith' }),
    ]);
  });

  it('shows headings, rules and tables as typed', () => {
    expect(flat(parseMarkdown('# Title'))).toBe('# Title');
    expect(flat(parseMarkdown('---'))).toBe('---');
  });

  it('remembers the tree of a text', () => {
    const first = markdown('**cached**');
    expect(markdown('**cached**')).toBe(first);
  });

  it('parses a 250-message timeline quickly', () => {
    const texts = Array.from({ length: 250 }, (_, i) => `message ${i} with **bold**, \`code\` and https://example.org/${i}\n\n\`\`\`js\nconst x = ${i};\n\`\`\``);
    const start = performance.now();
    for (const t of texts) markdown(t);
    const firstPass = performance.now() - start;
    const again = performance.now();
    for (const t of texts) markdown(t);
    expect(performance.now() - again).toBeLessThan(firstPass);
    expect(firstPass).toBeLessThan(1000);
  });
});

describe('highlight', () => {
  it('gives class-named spans for a registered language, and text for the rest', () => {
    const nodes = highlight('const a = "<b>";', 'js');
    expect(nodes).not.toBeNull();
    expect(nodes).toContainEqual({ classes: 'hljs-keyword', children: ['const'] });
    expect(nodes).toContainEqual({ classes: 'hljs-string', children: ['"<b>"'] });
    expect(highlight('x', 'no-such-language')).toBeNull();
  });
});
