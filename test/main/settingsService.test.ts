import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AuditJournal } from '../../src/io/auditJournal.js';
import { MysqlBarStore } from '../../src/io/mysqlBarStore.js';
import { registerIpcHandlers, type IpcInvokeEventLike } from '../../src/main/electron/ipcBridge.js';
import { buildBridge } from '../../src/preload/bridge.js';
import { createHttpApi } from '../../src/renderer/api/httpApi.js';
import { withApiErrors } from '../../src/renderer/api/index.js';
import { ApiError, entryNames, type KestrelApi } from '../../src/shared/api.js';
import { settingsSchema, type Settings } from '../../src/shared/config.js';
import type { SettingsView, TestBarSourceResult, UpdateSettingsResult } from '../../src/shared/contract/settings.js';
import { parseDatetime } from '../../src/shared/time.js';
import { freshDir } from '../helpers.js';
import { createTempMysqlDb, makeBars, type TempMysqlDb } from '../io/storeFixtures.js';
import { startHarness, type Harness } from './workstationHarness.js';

/** The Settings API through the real stack: the file conf keeps, field errors, and bar source tests. */

const INITIAL = {
  demo: { enabled: false, speed: 30, seed: 7 },
  variants: [{ name: 'rb-15m', vtSymbol: 'rb2405.SHFE', windowMinutes: 15, enabled: false }],
};

type Reply<T> = { status: number; body: T; text: string };
function restOf(h: Harness) {
  return async <T>(path: string, body?: unknown): Promise<Reply<T>> => {
    const res = await fetch(h.baseUrl + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${h.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T, text };
  };
}

/** Electron's IPC pair reduced to what registerIpcHandlers and buildBridge use (the shipped code runs on both ends). */
function ipcApi(h: Harness, opts: { errorsAsData?: boolean } = {}): KestrelApi {
  const handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => Promise<unknown>>();
  registerIpcHandlers(
    { handle: (channel, listener) => void handlers.set(channel, listener), removeHandler: (channel) => void handlers.delete(channel) },
    h.workstation.handlers,
    () => true,
  );
  const sender = { send: () => undefined };
  return buildBridge({
    invoke: async (channel, ...args) => {
      const handler = handlers.get(channel);
      if (!handler) throw new Error(`no handler for ${channel}`);
      return structuredClone(await handler({ senderFrame: { url: 'file:///app/out/renderer/index.html' }, sender }, ...args.map((a) => structuredClone(a))));
    },
    on: () => undefined,
    removeListener: () => undefined,
  }, opts);
}

/**
 * What Electron's contextBridge does to a promise the preload returns: values are copied; an
 * Error arrives as a new Error carrying its message only (electron/electron#28346).
 */
function acrossContextBridge(bridge: KestrelApi): KestrelApi {
  const copy = Object.fromEntries(
    entryNames.map((name) => {
      const call = bridge[name] as (p: unknown) => Promise<unknown>;
      return [
        name,
        (p: unknown) =>
          call(structuredClone(p)).then(
            (value) => structuredClone(value),
            (reason: unknown) => Promise.reject(reason instanceof Error ? new Error(reason.message) : structuredClone(reason)),
          ),
      ];
    }),
  );
  return { ...copy, events: bridge.events, streams: bridge.streams } as unknown as KestrelApi;
}

function storedFile(dataDir: string): unknown {
  return JSON.parse(readFileSync(join(dataDir, 'settings.json'), 'utf8'));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

describe('settings: read, validate, save', () => {
  let tmp: { dir: string; remove(): void };
  let harness: Harness;
  let rest: ReturnType<typeof restOf>;

  beforeAll(async () => {
    tmp = freshDir('settings');
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: INITIAL });
    rest = restOf(harness);
  });
  afterAll(async () => {
    await harness?.stop();
    tmp?.remove();
  });

  it('answers the saved settings, where they are kept, and nothing waiting for a restart', async () => {
    const res = await rest<SettingsView>('/api/settings');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      settings: settingsSchema.parse(INITIAL),
      storedAt: join(tmp.dir, 'settings.json'),
      dataDir: tmp.dir,
      running: settingsSchema.parse(INITIAL),
      restartNeeded: [],
      problem: null,
    });
  });

  it('round trip: a valid change is saved to the file and says what needs a restart', async () => {
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    const next: Settings = {
      ...current,
      demo: { ...current.demo, speed: 120 },
      variants: [...current.variants, { ...current.variants[0]!, name: 'rb-30m', windowMinutes: 30 }],
      supervisor: { ...current.supervisor, backoffMaxMs: 10_000 },
    };
    const res = await rest<UpdateSettingsResult>('/api/settings', { settings: next });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, storedAt: join(tmp.dir, 'settings.json'), changed: ['demo', 'variants', 'supervisor'], restartNeeded: ['demo', 'variants', 'supervisor'] });
    expect(res.body.message).toContain('restart needed for: demo, variants, supervisor');
    expect(storedFile(tmp.dir)).toEqual(next);
    const view = (await rest<SettingsView>('/api/settings')).body;
    expect(view.settings).toEqual(next);
    expect(view.running).toEqual(settingsSchema.parse(INITIAL));
    expect(view.restartNeeded).toEqual(['demo', 'variants', 'supervisor']);
    // Saving it once more changes nothing, and the restart is still awaited.
    const again = await rest<UpdateSettingsResult>('/api/settings', { settings: next });
    expect(again.body).toMatchObject({ changed: [], restartNeeded: ['demo', 'variants', 'supervisor'] });
    // Back to what runs: nothing waits any more.
    const back = await rest<UpdateSettingsResult>('/api/settings', { settings: settingsSchema.parse(INITIAL) });
    expect(back.body.restartNeeded).toEqual([]);
  });

  it('field errors: a bad MySQL URL and a windowMinutes of 7, each on its field; nothing saved', async () => {
    const before = storedFile(tmp.dir);
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    const bad = {
      ...current,
      barSource: { kind: 'mysql', url: 'mysql://root@127.0.0.1:3306' },
      variants: [{ ...current.variants[0]!, windowMinutes: 7 }],
    };
    const res = await rest<{ error: string; fields: { path: string; message: string }[] }>('/api/settings', { settings: bad });
    expect(res.status).toBe(400);
    expect(res.body.fields.map((f) => f.path).sort()).toEqual(['barSource.url', 'variants.0.windowMinutes']);
    expect(res.body.fields.find((f) => f.path === 'barSource.url')?.message).toMatch(/database name is missing/);
    expect(res.body.fields.find((f) => f.path === 'variants.0.windowMinutes')?.message).toMatch(/must divide 60/);
    expect(res.body.error).toMatch(/^settings not saved: 2 fields to correct/);
    expect(storedFile(tmp.dir)).toEqual(before);

    const notMysql = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', {
      settings: { ...current, barSource: { kind: 'mysql', url: 'postgres://x@y/z' } },
    });
    expect(notMysql.body.fields).toEqual([{ path: 'barSource.url', message: 'a MySQL URL starts with mysql://' }]);
    const twins = await rest<{ fields: { path: string }[] }>('/api/settings', {
      settings: { ...current, variants: [current.variants[0], current.variants[0]] },
    });
    expect(twins.body.fields.map((f) => f.path)).toEqual(['variants.1.name']);
    const dataDir = await rest<{ fields: { path: string }[] }>('/api/settings', { settings: { ...current, dataDir: '/elsewhere' } });
    expect(dataDir.body.fields.map((f) => f.path)).toEqual(['dataDir']);
  });

  it('field errors reach both adapters’ callers as an ApiError with .fields', async () => {
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    const bad = { settings: { ...current, variants: [{ ...current.variants[0]!, windowMinutes: 7 }] } };
    const http = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      // The desktop page: the preload's bridge behind the contextBridge, rebuilt by getApi()'s wrapper.
      const desktop = withApiErrors(acrossContextBridge(ipcApi(harness, { errorsAsData: true })));
      for (const api of [http.api, ipcApi(harness), desktop]) {
        const err = await api.updateSettings(bad).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(400);
        expect((err as ApiError).fields).toEqual([{ path: 'variants.0.windowMinutes', message: expect.stringMatching(/must divide 60/) as unknown as string }]);
      }
      // An Error thrown in the preload would reach the page without its status: why errors cross as data.
      const stripped = await acrossContextBridge(ipcApi(harness)).getSnapshot({ variant: 'nope' }).catch((e: unknown) => e);
      expect((stripped as { status?: number }).status).toBeUndefined();
      // Other errors keep their shape: a status and a message, no fields.
      for (const api of [http.api, ipcApi(harness), desktop]) {
        const err = (await api.getSnapshot({ variant: 'nope' }).catch((e: unknown) => e)) as ApiError;
        expect(err).toBeInstanceOf(ApiError);
        expect(err.status).toBe(404);
        expect(err.fields).toBeUndefined();
      }
    } finally {
      http.close();
    }
  });

  it('a MySQL password is saved but never returned; sending back the hidden form keeps it', async () => {
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    const url = 'mysql://kuser:s3cr%40t-pw@127.0.0.1:3306/vnpy';
    const saved = await rest<UpdateSettingsResult>('/api/settings', { settings: { ...current, barSource: { kind: 'mysql', url } } });
    expect(saved.status).toBe(200);
    expect(saved.text).not.toContain('s3cr');
    expect(saved.body.settings.barSource).toEqual({ kind: 'mysql', url: 'mysql://kuser:***@127.0.0.1:3306/vnpy' });
    expect((storedFile(tmp.dir) as Settings).barSource).toEqual({ kind: 'mysql', url });
    const view = await rest<SettingsView>('/api/settings');
    expect(view.text).not.toContain('s3cr');
    expect(view.body.restartNeeded).toEqual(['barSource']);
    // The page sends back what it was shown: the password stays as saved.
    const resaved = await rest<UpdateSettingsResult>('/api/settings', { settings: view.body.settings });
    expect(resaved.status).toBe(200);
    expect((storedFile(tmp.dir) as Settings).barSource).toEqual({ kind: 'mysql', url });
    // A hidden password that matches nothing known is not taken for a password.
    const other = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', {
      settings: { ...view.body.settings, barSource: { kind: 'mysql', url: 'mysql://kuser:***@10.0.0.9:3306/vnpy' } },
    });
    expect(other.body.fields).toEqual([{ path: 'barSource.url', message: 'the password is hidden (***): type it again' }]);
    // The audit journal records each save, and never a password.
    const journal = new AuditJournal(join(tmp.dir, 'kestrel.db'));
    const entries = journal.recent(20);
    journal.close();
    expect(entries.filter((e) => e.action === 'updateSettings').length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(entries)).not.toContain('s3cr');
    await rest('/api/settings', { settings: settingsSchema.parse(INITIAL) });
  });

  it('the backtest queue: local or a Redis URL on its field, a remote host only when confirmed, a password never returned', async () => {
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    expect(current.backtest).toEqual({ queue: 'local', queueName: 'kestrel-backtests', allowNonLoopback: false });
    const notRedis = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', { settings: { ...current, backtest: { ...current.backtest, queue: 'http://127.0.0.1:6379' } } });
    expect(notRedis.status).toBe(400);
    expect(notRedis.body.fields).toEqual([{ path: 'backtest.queue', message: "the backtest queue is 'local' or a Redis URL, e.g. redis://127.0.0.1:6379" }]);
    const remote = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', { settings: { ...current, backtest: { ...current.backtest, queue: 'redis://10.1.2.3:6379' } } });
    expect(remote.body.fields).toEqual([{ path: 'backtest.queue', message: expect.stringMatching(/10\.1\.2\.3 is not this machine.*backtest\.allowNonLoopback/) as unknown as string }]);
    const url = 'redis://:q5ecr3t@10.1.2.3:6379';
    const saved = await rest<UpdateSettingsResult>('/api/settings', { settings: { ...current, backtest: { queue: url, queueName: 'desk', allowNonLoopback: true } } });
    expect(saved.status).toBe(200);
    expect(saved.text).not.toContain('q5ecr3t');
    expect(saved.body.settings.backtest.queue).toBe('redis://:***@10.1.2.3:6379');
    expect(saved.body.restartNeeded).toEqual(['backtest']);
    expect((storedFile(tmp.dir) as Settings).backtest.queue).toBe(url);
    const view = await rest<SettingsView>('/api/settings');
    expect(view.text).not.toContain('q5ecr3t');
    const resaved = await rest<UpdateSettingsResult>('/api/settings', { settings: view.body.settings });
    expect(resaved.status).toBe(200);
    expect((storedFile(tmp.dir) as Settings).backtest.queue).toBe(url);
    const other = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', {
      settings: { ...view.body.settings, backtest: { ...view.body.settings.backtest, queue: 'redis://:***@10.9.9.9:6379' } },
    });
    expect(other.body.fields).toEqual([{ path: 'backtest.queue', message: 'the password is hidden (***): type it again' }]);
    await rest('/api/settings', { settings: settingsSchema.parse(INITIAL) });
  });
});

describe('settings need control', () => {
  it('403 for a save and a test without control; the file is untouched', async () => {
    const tmp = freshDir('settings-ro');
    const harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings: INITIAL });
    try {
      const rest = restOf(harness);
      const before = storedFile(tmp.dir);
      const view = await rest<SettingsView>('/api/settings');
      expect(view.status).toBe(200);
      const res = await rest<{ error: string }>('/api/settings', { settings: { ...view.body.settings, demo: { ...view.body.settings.demo, speed: 1 } } });
      expect(res.status).toBe(403);
      expect(storedFile(tmp.dir)).toEqual(before);
      expect((await rest('/api/settings/test-bar-source', { barSource: { kind: 'sqlite', path: null } })).status).toBe(403);
    } finally {
      await harness.stop();
      tmp.remove();
    }
  });
});

describe('testing a bar source', () => {
  let tmp: { dir: string; remove(): void };
  let harness: Harness;
  let rest: ReturnType<typeof restOf>;
  let db: TempMysqlDb;

  beforeAll(async () => {
    tmp = freshDir('settings-test');
    db = await createTempMysqlDb();
    // A vnpy database: vnpy_mysql's tables with two symbols in dbbaroverview.
    const store = await MysqlBarStore.connect(db.url);
    const start = parseDatetime('2024-03-07 09:00:00') as number;
    await store.write([...makeBars('rb2405', 'SHFE', start, 5), ...makeBars('i2405', 'DCE', start, 3)]);
    await store.close();
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: true, speed: 60, seed: 3 } } });
    rest = restOf(harness);
  });
  afterAll(async () => {
    await harness?.stop();
    tmp?.remove();
    await db?.drop();
  });

  const test = (barSource: unknown) => rest<TestBarSourceResult>('/api/settings/test-bar-source', { barSource });

  it('MariaDB with vnpy tables: ok, and how many overview rows', async () => {
    const res = await test({ kind: 'mysql', url: db.url });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: true, overviewCount: 2, message: `MySQL root@127.0.0.1:3306/${db.name} (read-only): connected, 2 rows in dbbaroverview` });
  });

  it('a closed port, wrong credentials: the same "unreachable" answer; a missing database or one without vnpy tables: "not a vnpy bar database"', async () => {
    const port = await closedPort();
    const refused = await test({ kind: 'mysql', url: `mysql://root@127.0.0.1:${port}/vnpy` });
    expect(refused.status).toBe(200);
    expect(refused.body).toEqual({ ok: false, message: `unreachable: no MySQL server accepted mysql://root@127.0.0.1:${port}/vnpy within 3 s (check host, port, user and password)` });
    const denied = await test({ kind: 'mysql', url: `mysql://nobody_${process.pid}:wrong@127.0.0.1:3306/${db.name}` });
    expect(denied.body.ok).toBe(false);
    expect(denied.body.message).toMatch(/^unreachable: no MySQL server accepted/);
    expect(denied.body.message).not.toContain('wrong');
    const missing = await test({ kind: 'mysql', url: `mysql://root@127.0.0.1:3306/${db.name}_nope` });
    expect(missing.body).toEqual({ ok: false, message: 'not a vnpy bar database (or not readable by Kestrel)' });
    const empty = await createTempMysqlDb();
    try {
      const notVnpy = await test({ kind: 'mysql', url: empty.url });
      expect(notVnpy.body).toEqual({ ok: false, message: 'not a vnpy bar database (or not readable by Kestrel)' });
    } finally {
      await empty.drop();
    }
    const malformed = await test({ kind: 'mysql', url: 'mysql://root@127.0.0.1:3306' });
    expect(malformed.body).toMatchObject({ ok: false, message: expect.stringMatching(/database name is missing/) as unknown as string });
  });

  it('SQLite: the default kestrel.db (the demo’s) is ok; a missing file is not', async () => {
    const res = await test({ kind: 'sqlite', path: null });
    expect(res.body.ok).toBe(true);
    expect(res.body.overviewCount).toBe(3);
    expect(res.body.message).toContain(join(tmp.dir, 'kestrel.db'));
    // A missing file, a folder and a file that is not SQLite answer alike: no path-existence oracle.
    const answers = await Promise.all(
      [join(tmp.dir, 'nope', 'database.db'), tmp.dir, join(tmp.dir, 'settings.json')].map(async (path) => (await test({ kind: 'sqlite', path })).body),
    );
    for (const a of answers) expect(a).toEqual({ ok: false, message: 'not a vnpy bar database (or not readable by Kestrel)' });
  });
});
