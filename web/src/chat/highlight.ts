// Syntax highlighting of code blocks, loaded on demand (`import()`) the first
// time a message shows a code block with a language, so the main bundle does
// not carry it.
//
// `lowlight` (highlight.js) gives a hast tree, never HTML; this module reduces
// it to text and class-named spans, which the view builds as elements. A
// handful of common languages are registered; any other is shown plain.

import { createLowlight } from 'lowlight';
import bash from 'highlight.js/lib/languages/bash';
import c from 'highlight.js/lib/languages/c';
import cpp from 'highlight.js/lib/languages/cpp';
import css from 'highlight.js/lib/languages/css';
import diff from 'highlight.js/lib/languages/diff';
import go from 'highlight.js/lib/languages/go';
import java from 'highlight.js/lib/languages/java';
import javascript from 'highlight.js/lib/languages/javascript';
import json from 'highlight.js/lib/languages/json';
import python from 'highlight.js/lib/languages/python';
import rust from 'highlight.js/lib/languages/rust';
import sql from 'highlight.js/lib/languages/sql';
import typescript from 'highlight.js/lib/languages/typescript';
import xml from 'highlight.js/lib/languages/xml';
import yaml from 'highlight.js/lib/languages/yaml';

/** Highlighted code: text, and spans with highlight.js's class names (`hljs-keyword`, …). */
export type Highlighted = string | { classes: string; children: Highlighted[] };

const lowlight = createLowlight({ bash, c, cpp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml });
lowlight.registerAlias({ bash: ['sh', 'shell', 'zsh'], javascript: ['js', 'jsx', 'mjs'], typescript: ['ts', 'tsx'], python: ['py'], rust: ['rs'], xml: ['html', 'svg'], yaml: ['yml'] });

interface HastText {
  type: 'text';
  value: string;
}
interface HastElement {
  type: 'element';
  properties?: { className?: unknown };
  children: HastNode[];
}
type HastNode = HastText | HastElement | { type: string };

function convert(node: HastNode): Highlighted[] {
  if (node.type === 'text') return [(node as HastText).value];
  if (node.type !== 'element') return [];
  const element = node as HastElement;
  const children = element.children.flatMap(convert);
  const names = element.properties?.className;
  const classes = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string' && /^hljs-[\w-]+$/.test(n)).join(' ') : '';
  return classes === '' ? children : [{ classes, children }];
}

/** The code as highlighted nodes, or null when the language is not registered. */
export function highlight(code: string, lang: string): Highlighted[] | null {
  if (!lowlight.registered(lang)) return null;
  const tree = lowlight.highlight(lang, code);
  return (tree.children as HastNode[]).flatMap(convert);
}
