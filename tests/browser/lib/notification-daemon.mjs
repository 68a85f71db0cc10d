// A desktop notification server for headless Chromium, on a D-Bus session
// bus of its own: it implements org.freedesktop.Notifications (the
// interface every Linux desktop's notification daemon answers), records
// what Chromium shows, and clicks a notification the way a person's click
// on a desktop does, with the `ActionInvoked` signal — so the service
// worker's `notificationclick` runs through Chromium's real path.
//
// Chromium on Linux shows notifications through this interface when a
// session bus has it; without one it keeps them to itself, where
// `getNotifications()` still lists them but nothing can click them.
// Needs `dbus-daemon` (Debian package dbus-daemon; `make dbus-deps`).

import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import dbus from '@homebridge/dbus-native';

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';

/** The interface as the Desktop Notifications Specification defines it (the methods Chromium calls, the signals it listens to). */
const INTERFACE = {
  name: NAME,
  methods: {
    Notify: ['susssasa{sv}i', 'u'],
    CloseNotification: ['u', ''],
    GetCapabilities: ['', 'as'],
    GetServerInformation: ['', 'ssss'],
  },
  signals: {
    NotificationClosed: ['uu'],
    ActionInvoked: ['us'],
  },
};

/**
 * Starts a session bus and the notification server on it. Returns the
 * bus `address` (Chromium's `DBUS_SESSION_BUS_ADDRESS`), `shown` (every
 * notification Chromium asked for: id, summary, body, actions), `click(id)`
 * and `stop()`.
 */
export async function startNotificationDaemon() {
  const daemon = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const address = await new Promise((resolve, reject) => {
    let out = '';
    daemon.once('error', reject);
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    daemon.stdout.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve(line.trim());
    });
  });
  const bus = dbus.sessionBus({ busAddress: address });
  await new Promise((resolve, reject) =>
    // 4: do not queue; the reply 1 means we own the name.
    bus.requestName(NAME, 4, (err, reply) => (err ? reject(new Error(err.message ?? String(err))) : reply === 1 ? resolve() : reject(new Error(`RequestName answered ${reply}`)))),
  );
  const shown = [];
  let next = 0;
  const server = new EventEmitter();
  server.Notify = (app, replacesId, icon, summary, body, actions) => {
    const id = replacesId > 0 ? replacesId : ++next;
    shown.push({ id, app, summary, body, actions });
    return id;
  };
  server.CloseNotification = (id) => {
    server.emit('NotificationClosed', id, 3);
  };
  server.GetCapabilities = () => ['actions', 'body'];
  server.GetServerInformation = () => ['securechat-tests', 'securechat', '1.0', '1.2'];
  bus.exportInterface(server, PATH, INTERFACE);
  return {
    address,
    shown,
    /** Clicks notification `id` (its default action, as a click on its body does). */
    click(id) {
      server.emit('ActionInvoked', id, 'default');
    },
    async stop() {
      bus.connection.end();
      daemon.kill('SIGTERM');
      if (daemon.exitCode === null) await new Promise((resolve) => daemon.once('exit', resolve));
    },
  };
}
