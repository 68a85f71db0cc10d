// Headless Debian Chromium driven by playwright-core (no downloaded browser).

import { chromium } from 'playwright-core';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  // The machine has no network but loopback: keep Chromium from calling home.
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * Collects what would show in the developer console as a fault: uncaught
 * exceptions and console errors, which include Content-Security-Policy
 * violations. Failed HTTP statuses are left out: a 401 from
 * `/api/auth/me` is how a signed-out page learns that it is signed out.
 */
export function collectPageProblems(page) {
  const problems = [];
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    if (message.text().startsWith('Failed to load resource')) return;
    problems.push(`console: ${message.text()}`);
  });
  return problems;
}
