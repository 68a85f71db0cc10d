// Reference peer for the Securechat benchmark: the stock Node stack
// (socket.io 4.8 on node:http, better-sqlite3, Argon2id) speaking the
// benchmark protocol described in ../README.md, in one process.
//
//   PORT=5101 DB_PATH=/tmp/peer.db node server.mjs

import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createApi } from './api.mjs';
import { openStore } from './db.mjs';
import { attachRealtime } from './realtime.mjs';

function config() {
  const port = Number(process.env.PORT);
  const dbPath = process.env.DB_PATH;
  if (!Number.isInteger(port) || port < 1 || port > 65535 || !dbPath) {
    console.error('Set PORT (1-65535, listens on 127.0.0.1) and DB_PATH (SQLite file, created if missing)');
    process.exit(2);
  }
  return { port, dbPath };
}

const { port, dbPath } = config();
const store = openStore(dbPath);
const http = createServer(createApi(store));
const io = new Server(http);
attachRealtime(io, store);

http.on('error', (e) => {
  console.error(`cannot listen on 127.0.0.1:${port}: ${e.message}`);
  process.exit(1);
});
http.listen(port, '127.0.0.1', () => {
  console.log(`listening on ${port}`);
});

function shutdown() {
  io.close(() => {
    store.db.close();
    process.exit(0);
  });
  // Keep-alive HTTP connections would hold the close open.
  http.closeAllConnections();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
