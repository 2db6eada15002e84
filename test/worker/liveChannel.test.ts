import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { NodeHost } from '../../src/main/node/nodeHost.js';
import type { WorkerHandle } from '../../src/main/workstation/host.js';
import { formatDatetime } from '../../src/shared/time.js';
import { workerLaunchSchema, type FromWorker } from '../../src/shared/workerProtocol.js';
import { BarRecorder } from '../fixtures/barRecorder.js';
import { freshDir, waitFor } from '../helpers.js';
import { Tape } from './runnerFixture.js';

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Live = Extract<FromWorker, { type: 'live' }>;

describe('the worker’s live channel', () => {
  it('every bar a recorder process commits reaches main over IPC as a live tail carrying the bar', async () => {
    const tmp = freshDir('live-channel');
    cleanups.push(tmp.remove);
    const dbPath = join(tmp.dir, 'kestrel.db');
    const store = SqliteBarStore.open(dbPath);
    const history = new Tape(11).next(3 * 345);
    await store.write(history);
    await store.close();

    const host = new NodeHost();
    const worker: WorkerHandle = host.forkWorker(
      workerLaunchSchema.parse({
        // A poll of a minute: the file watcher wakes the worker, the IPC channel carries the bar.
        variant: { name: 'live-1m', vtSymbol: 'rb9999.SIM', windowMinutes: 1, pollMs: 60_000 },
        dataDir: tmp.dir,
        barSource: { kind: 'sqlite', path: dbPath },
        sourceLabel: 'sqlite',
      }),
    );
    const exited = new Promise<void>((done) => worker.onExit(() => done()));
    cleanups.push(async () => {
      worker.send({ type: 'stop' });
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      host.killAll();
    });
    const live: Live[] = [];
    let running = false;
    worker.onMessage((m) => {
      if (m.type === 'live') live.push(m);
      if (m.type === 'status' && m.status !== 'restoring' && m.status !== 'starting') running = true;
    });
    await waitFor('restored', () => running, 60_000);

    const recorder = new BarRecorder(dbPath);
    cleanups.push(() => recorder.close());
    const last = history[history.length - 1]?.time ?? 0;
    for (let i = 1; i <= 30; i++) {
      const p = 3600 + i;
      const datetime = formatDatetime(last + i * 60);
      await recorder.insert({ symbol: 'rb9999', exchange: 'SIM', datetime, open: p, high: p + 2, low: p - 2, close: p + 1, volume: 7 });
      const tail = await waitFor(`${datetime} in a live tail`, () => live.find((m) => m.instruments[0]?.lastBarAt === datetime), 20_000, 5);
      const instrument = tail.instruments[0];
      // The bar itself rides on the message: the forming candle, or the newest closed one.
      const shown = instrument?.forming?.time === last + i * 60 ? instrument.forming : instrument?.recent.at(-1);
      expect(shown?.close).toBe(p + 1);
      expect(tail.trading.pnl).toBeDefined();
    }
  }, 120_000);
});
