// Accessibility checks with axe-core, run inside the page under test.
//
// The script is evaluated through the DevTools protocol, which the page's
// Content-Security-Policy does not govern, so the app's CSP stays as strict
// as in production while the check runs.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Fails when axe-core finds violations of WCAG 2.x A/AA rules (and its best
 * practices) on the page, or within `selector` when given. The message lists
 * each rule with the elements that break it.
 */
export async function expectNoAxeViolations(page, selector) {
  const loaded = await page.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async (scope) => {
    const result = await window.axe.run(scope ?? document, { resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }, selector ?? null);
  assert.deepEqual(violations, [], `accessibility violations${selector === undefined ? '' : ` in ${selector}`}`);
}
