// A Securechat cluster for a browser test: a fresh PostgreSQL database
// (from TEST_DATABASE_URL) with the demo users, several `securechat serve`
// nodes sharing it and Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379),
// and a local nginx load balancer (Debian package) in front of them —
// round-robin, WebSocket upgrade passed through, as in docs/DEPLOY.md.
// A browser context can be pinned to one node with the `sc_test_node`
// cookie, so a test knows which node serves whose socket (round robin alone
// places them by the parity of each page's earlier requests).

import { spawn, execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { captureOutput, freePort, runToCompletion, serverBinary, stopProcess, waitForHealth } from './server.mjs';

const run = promisify(execFile);
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));

/** Why the cluster cannot run here, or undefined if it can. */
export function clusterUnavailable() {
  if (!process.env.TEST_DATABASE_URL) return 'TEST_DATABASE_URL is not set';
  if (NGINX === undefined) return 'nginx is not installed';
  return undefined;
}

async function psql(url, sql) {
  await run('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql]);
}

function nginxConfig(dir, port, upstreamPorts) {
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p};`).join('\n');
  const pinned = upstreamPorts.map((p, i) => `  upstream node${i} { server 127.0.0.1:${p}; }`).join('\n');
  const pins = upstreamPorts.map((_, i) => `    "${i}" node${i};`).join('\n');
  return `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream securechat {
${servers}
  }
${pinned}
  map $cookie_sc_test_node $backend {
    default securechat;
${pins}
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://$backend;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_read_timeout 1h;
      proxy_buffering off;
    }
  }
}
`;
}

/**
 * Starts `nodes` nodes and nginx. Returns `{ url, logs(i), pin(context, i),
 * stop() }`, `url` being nginx's and `pin` sending every later request of a
 * browser context to node `i`.
 */
export async function startCluster(nodes = 2) {
  const admin = process.env.TEST_DATABASE_URL;
  const name = `securechat_browser_${process.pid}_${randomBytes(4).toString('hex')}`;
  const databaseUrl = `${admin.slice(0, admin.lastIndexOf('/'))}/${name}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'securechat-cluster-'));
  const bin = serverBinary();
  const children = [];
  const outputs = [];
  let nginx;
  const redisUrl = process.env.TEST_REDIS_URL || 'redis://127.0.0.1:6379';
  const prefix = `scbrowser-${process.pid}-${randomBytes(4).toString('hex')}`;
  const stop = async () => {
    if (nginx !== undefined) await stopProcess(nginx);
    for (const child of children) await stopProcess(child);
    // Best effort: the cluster's presence and liveness keys.
    const drop = "for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0";
    await run('redis-cli', ['-u', redisUrl, 'EVAL', drop, '0', `${prefix}:*`]).catch(() => {});
    await psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await psql(admin, `CREATE DATABASE ${name}`);
    const base = {
      ...process.env,
      APP_ENV: 'development',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: prefix,
      SECRET_KEY: randomBytes(32).toString('hex'),
      // Every node signs Web Pushes with the same VAPID key.
      VAPID_PRIVATE_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }).d,
      RUST_LOG: 'securechat_server=debug,warn',
    };
    for (const n of ['SSL_CERT_PATH', 'SSL_KEY_PATH', 'FLASK_ENV', 'PUBLIC_URL']) delete base[n];
    await runToCompletion(bin, ['init-db', '--demo'], { ...base, DATA_DIR: dir });
    const ports = [];
    for (let i = 0; i < nodes; i += 1) {
      const port = await freePort();
      const env = { ...base, DATA_DIR: path.join(dir, `node${i}`), PORT: String(port) };
      const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const output = captureOutput(child);
      outputs.push(output);
      await waitForHealth(`http://127.0.0.1:${port}`, child, output);
      ports.push(port);
    }
    const port = await freePort();
    await writeFile(path.join(dir, 'nginx.conf'), nginxConfig(dir, port, ports));
    nginx = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealth(url, nginx, () => {
      try {
        return readFileSync(path.join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    });
    const pin = (context, i) => context.addCookies([{ name: 'sc_test_node', value: String(i), url }]);
    return { url, logs: (i) => outputs[i](), pin, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
