// Starts the real `securechat` binary for a test run: a fresh data directory
// with the demo users, a free port on 127.0.0.1, development mode.

import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const LOG_LINES_KEPT = 200;

/** The server binary: `SECURECHAT_BIN`, relative paths taken from the repository root. */
export function serverBinary() {
  return path.resolve(REPO_ROOT, process.env.SECURECHAT_BIN ?? 'target/debug/securechat');
}

/** A port that was free a moment ago (the server binds it right after). */
export async function freePort() {
  const probe = createServer();
  await new Promise((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', resolve);
  });
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Keeps the last lines a child process printed, for error reports. */
export function captureOutput(child) {
  const lines = [];
  const keep = (chunk) => {
    lines.push(...chunk.toString().split('\n').filter((line) => line !== ''));
    lines.splice(0, Math.max(0, lines.length - LOG_LINES_KEPT));
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  return () => lines.join('\n');
}

function exited(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function runToCompletion(bin, args, env) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = captureOutput(child);
  const code = await new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    throw new Error(`\`securechat ${args.join(' ')}\` exited with ${code}:\n${output()}`);
  }
}

export async function waitForHealth(url, child, output) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server exited during start-up (${child.exitCode ?? child.signalCode}):\n${output()}`);
    }
    try {
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`GET /healthz did not answer 200 within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

/**
 * Runs `init-db --demo`, then `serve`, and waits until the server is healthy.
 * `env` adds settings (e.g. `{ DEFAULT_ROOMS: 'Lobby' }`).
 * Returns `{ url, logs(), stop(), pause(), resume() }`; `stop` ends the
 * server and deletes its data, `pause` ends it and keeps them for `resume`.
 */
export async function startServer({ env: extra = {} } = {}) {
  const bin = serverBinary();
  try {
    await access(bin, constants.X_OK);
  } catch {
    throw new Error(`no server binary at ${bin}: build it with \`cargo build -p securechat-server\` or set SECURECHAT_BIN`);
  }

  const dataDir = await mkdtemp(path.join(tmpdir(), 'securechat-browser-'));
  // A caller that must know the port first (to tell another process) passes it as PORT.
  const port = extra.PORT !== undefined ? Number(extra.PORT) : await freePort();
  const env = { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', APP_ENV: 'development' };
  // Settings from the caller's shell must not point the test server elsewhere.
  for (const name of ['DATABASE_URL', 'SECRET_KEY', 'SSL_CERT_PATH', 'SSL_KEY_PATH', 'FLASK_ENV', 'DEFAULT_ROOMS']) delete env[name];
  Object.assign(env, extra);

  let child;
  try {
    await runToCompletion(bin, ['init-db', '--demo'], env);
    child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const logs = captureOutput(child);
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, child, logs);

    let output = logs;
    return {
      url,
      logs: () => output(),
      async stop() {
        await stopProcess(child);
        await rm(dataDir, { recursive: true, force: true });
      },
      /** Stops the server and keeps its data: the page then finds nothing at `url`. */
      async pause() {
        await stopProcess(child);
      },
      /** Starts it again on the same port and data, and waits until it is healthy. */
      async resume() {
        if (child.exitCode === null && child.signalCode === null) return;
        child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
        output = captureOutput(child);
        await waitForHealth(url, child, output);
      },
    };
  } catch (err) {
    if (child !== undefined) await stopProcess(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export async function stopProcess(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited(child);
  clearTimeout(timer);
}
