// Accessibility checks with axe-core, through @axe-core/playwright.
//
// AxeBuilder puts axe into the page through the DevTools protocol, which the
// page's Content-Security-Policy does not govern, so the app's CSP stays as
// strict as in production while the check runs.

import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';

/**
 * Fails when axe-core finds violations of WCAG 2.x A/AA rules (and its best
 * practices) on the page, or within `selector` when given. The message lists
 * each rule with the elements that break it.
 */
export async function expectNoAxeViolations(page, selector) {
  // Legacy mode runs axe in the page itself. The default mode merges the
  // results of every frame in a blank page it opens for each check, three
  // times slower here (2.5 s against 0.9 s), and the app has no frames.
  let builder = new AxeBuilder({ page }).setLegacyMode(true).options({ resultTypes: ['violations'] });
  if (selector !== undefined) builder = builder.include(selector);
  const result = await builder.analyze();
  const violations = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(violations, [], `accessibility violations${selector === undefined ? '' : ` in ${selector}`}`);
}
