// Build configuration for the web client.
//
// The output in `dist/` is embedded into the `securechat` binary and served
// under a strict Content-Security-Policy (`default-src 'self'`), which shapes
// two settings below: no asset may be inlined as a `data:` URL, and nothing
// may be loaded from another origin.
import { defineConfig } from 'vitest/config';

// During `npm run dev`, API and Socket.IO requests go to a running server.
const backend = process.env.SECURECHAT_URL ?? 'http://127.0.0.1:5000';

export default defineConfig({
  oxc: {
    // Preact's automatic JSX runtime; no framework plugin is needed.
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // `data:` URLs would be blocked by `default-src 'self'`.
    assetsInlineLimit: 0,
    // Every supported browser has native modulepreload.
    modulePreload: { polyfill: false },
  },
  server: {
    // The Host and Origin headers are kept as the browser sent them, so the
    // server's same-origin (CSRF) check sees a consistent request.
    proxy: {
      '/api': { target: backend },
      '/healthz': { target: backend },
      '/socket.io': { target: backend, ws: true },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
