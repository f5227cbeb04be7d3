import * as dbusNative from '@homebridge/dbus-native';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../../test-support/wait';

/** One notification Chromium handed to the desktop. */
export interface DesktopNotification {
  id: number;
  summary: string;
  body: string;
  /** Pairs of action key and label; `default` is the click on the notification itself. */
  actions: string[];
}

export interface DesktopNotifications {
  /** DBUS_SESSION_BUS_ADDRESS for the browser. */
  busAddress: string;
  shown: DesktopNotification[];
  /** Clicks a notification as a user would: the `default` action, as a desktop's notification daemon reports it. */
  click(id: number): void;
  close(): Promise<void>;
}

/** The parts of dbus-native's session bus used here (its bundled types cover only the client side). */
interface SessionBus {
  exportInterface(obj: EventEmitter, path: string, iface: typeof NOTIFICATIONS_INTERFACE): void;
  requestName(name: string, flags: number, callback: (err: unknown, code: number) => void): void;
  connection: { end(): void };
}
const { sessionBus } = dbusNative as unknown as { sessionBus(options: { busAddress: string }): SessionBus };

/** DBUS_NAME_FLAG_DO_NOT_QUEUE, and the reply that says the name is ours. */
const DO_NOT_QUEUE = 0x4;
const PRIMARY_OWNER = 1;

const NOTIFICATIONS_INTERFACE = {
  name: 'org.freedesktop.Notifications',
  methods: {
    Notify: ['susssasa{sv}i', 'u', ['app_name', 'replaces_id', 'app_icon', 'summary', 'body', 'actions', 'hints', 'expire_timeout'], ['id']],
    CloseNotification: ['u', '', ['id'], []],
    GetCapabilities: ['', 'as', [], ['capabilities']],
    GetServerInformation: ['', 'ssss', [], ['name', 'vendor', 'version', 'spec_version']],
  },
  signals: {
    ActionInvoked: ['us', 'id', 'action_key'],
    NotificationClosed: ['uu', 'id', 'reason'],
  },
};

/**
 * A desktop notification server (the freedesktop.org Notifications interface) on a private D-Bus
 * session bus. Chromium on Linux shows web notifications through whichever process owns
 * `org.freedesktop.Notifications` and dispatches a real, trusted `notificationclick` to the
 * service worker when that process reports the `default` action: the one way to click a
 * notification that the DevTools protocol has no command for. Needs `dbus-daemon` (Debian's `dbus`).
 */
export async function startDesktopNotifications(): Promise<DesktopNotifications> {
  const dir = mkdtempSync(join(tmpdir(), 'jobstream-dbus-'));
  const daemon: ChildProcess = spawn('dbus-daemon', ['--session', '--nofork', '--nopidfile', '--print-address=1', `--address=unix:path=${join(dir, 'bus')}`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const [chunk] = (await Promise.race([once(daemon.stdout!, 'data'), once(daemon, 'error').then(([err]) => Promise.reject(err as Error))])) as [Buffer];
  const busAddress = chunk.toString('utf8').trim();
  const bus = sessionBus({ busAddress });
  const shown: DesktopNotification[] = [];
  const server = Object.assign(new EventEmitter(), {
    Notify(_app: string, replacesId: number, _icon: string, summary: string, body: string, actions: string[]): number {
      const id = replacesId || shown.length + 1;
      shown.push({ id, summary, body, actions });
      return id;
    },
    CloseNotification(id: number): void {
      server.emit('NotificationClosed', id, 3);
    },
    GetCapabilities: (): string[] => ['actions', 'body'],
    GetServerInformation: (): string[] => ['jobstream-test', 'jobstream', '1.0', '1.2'],
  });
  bus.exportInterface(server, '/org/freedesktop/Notifications', NOTIFICATIONS_INTERFACE);
  await new Promise<void>((resolve, reject) =>
    bus.requestName('org.freedesktop.Notifications', DO_NOT_QUEUE, (err, code) => (err || code !== PRIMARY_OWNER ? reject(new Error(`could not own the name: ${String(err ?? code)}`)) : resolve())),
  );
  return {
    busAddress,
    shown,
    click(id) {
      server.emit('ActionInvoked', id, 'default');
    },
    async close() {
      bus.connection.end();
      daemon.kill();
      await waitUntil('dbus-daemon to exit', () => daemon.exitCode !== null || daemon.signalCode !== null);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
