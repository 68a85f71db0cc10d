// Messages with elements inside them ("Signed in as <strong>alice</strong>"):
// the catalogue keeps the whole sentence with a `{{name}}` placeholder, so
// each language puts the element where its grammar wants it, and the
// element is placed there as a node, never as HTML.

import type { ComponentChildren } from 'preact';
import { Fragment } from 'preact';

/**
 * Splits `template` (a message translated with `skipInterpolation`) at its
 * `{{name}}` placeholders and puts `parts[name]` in each; a placeholder
 * without a part is kept as text.
 */
export function withParts(template: string, parts: Readonly<Record<string, ComponentChildren>>): ComponentChildren {
  const pieces = template.split(/\{\{\s*(\w+)\s*\}\}/);
  return pieces.map((piece, index) => {
    if (index % 2 === 0) return piece;
    return <Fragment key={index}>{piece in parts ? parts[piece] : `{{${piece}}}`}</Fragment>;
  });
}
