import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MysqlBarStore } from '../../src/io/mysqlBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import { formatDatetime } from '../../src/shared/time.js';
import { join } from 'node:path';
import { createTempMysqlDb, type TempMysqlDb } from '../io/storeFixtures.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { ACTIVE_PARAMS, Tape } from '../worker/runnerFixture.js';

const DAY = 345;

/** MariaDB behind a switch: while down, every connection is cut at once, as a dead server's would be. */
async function switchableProxy(): Promise<{ port: number; setUp(up: boolean): void; close(): Promise<void> }> {
  let up = true;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = connect(3306, '127.0.0.1');
    open.add(client);
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
    };
    client.pipe(upstream);
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      s.on('close', kill);
      s.on('error', kill);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    setUp(value) {
      up = value;
      if (!up) for (const s of open) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  };
}

let harness: Harness | null = null;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('MySQL down during restore', () => {
  it('waits with status restoring and an alert, loses nothing, and restores from its state once MySQL is back', async () => {
    const db: TempMysqlDb = await createTempMysqlDb();
    cleanups.push(() => db.drop());
    const proxy = await switchableProxy();
    cleanups.push(() => proxy.close());
    const tmp = freshDir('mysql-down');
    cleanups.push(tmp.remove);
    const tape = new Tape(21);
    const writer = await MysqlBarStore.connect(db.url);
    cleanups.push(() => writer.close());
    await writer.write(tape.next(30 * DAY));

    const settings = {
      demo: { enabled: false, speed: 60, seed: 1 },
      barSource: { kind: 'mysql' as const, url: `mysql://root@127.0.0.1:${proxy.port}/${db.name}` },
      variants: [{ name: 'my-15m', vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 50, params: ACTIVE_PARAMS }],
      supervisor: { backoffInitialMs: 100, backoffMaxMs: 500, maxCrashes: 3, crashWindowMs: 60_000 },
    };
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings });
    await waitFor('restored through MySQL', () => harness?.workstation.summaryOf('my-15m').status === 'running', 60_000);
    await writer.write(tape.next(20 * DAY));
    const lastStamp = () => harness?.workstation.summaryOf('my-15m').lastBarAt;
    await waitFor('followed the new rows', async () => {
      const last = await writer.lastTime({ symbol: 'rb9999', exchange: 'SIM', interval: '1m' });
      return last !== null && lastStamp() === formatDatetime(last) ? true : undefined;
    }, 60_000);
    await harness.stop();
    harness = null;

    const journalPath = join(tmp.dir, 'kestrel.db');
    const before = TradingJournal.open(journalPath);
    const stateBefore = before.loadState('my-15m');
    const tradesBefore = before.trades({ variant: 'my-15m' });
    before.close();
    expect(stateBefore).not.toBeNull();

    proxy.setUp(false);
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: false, settings });
    const ws = harness.workstation;
    const waiting = await waitFor('waiting for MySQL', () => {
      const s = ws.summaryOf('my-15m');
      return s.status === 'restoring' && /bar store/.test(s.message ?? '') ? s : undefined;
    }, 30_000);
    expect(waiting.message).toMatch(/MySQL|bar store/);
    await waitFor('an alert about it', () => harness?.alerts.some((a) => a.variant === 'my-15m' && a.level === 'ERROR' && /unreachable/i.test(a.title)), 30_000);
    // Waiting is not crashing: no restart loop, and nothing stored was touched.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(ws.supervisorInfo('my-15m')?.restarts).toBe(0);
    const during = TradingJournal.open(journalPath);
    expect(during.loadState('my-15m')?.json).toBe(stateBefore?.json);
    expect(during.trades({ variant: 'my-15m' })).toEqual(tradesBefore);
    during.close();

    proxy.setUp(true);
    await waitFor('restored once MySQL is back', () => ws.summaryOf('my-15m').status === 'running', 60_000);
    const snap = await ws.handlers.getSnapshot({ variant: 'my-15m' }, { origin: 'cli', controlAllowed: false });
    expect(snap.restore?.from).toBe('state');
  }, 180_000);
});
