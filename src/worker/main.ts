/**
 * The strategy worker process: one per variant. Started by the supervisor (a Node child
 * process, or an Electron utility process) with its launch config in the environment.
 */
import { join } from 'node:path';
import { BarStoreUnavailableError, type BarStore } from '../io/barStore.js';
import { JsonLinesLog } from '../io/jsonLinesLog.js';
import { openBarStore } from '../io/openBarStore.js';
import { TradingJournal } from '../io/tradingJournal.js';
import { WORKER_LAUNCH_ENV, workerLaunchSchema, type WorkerLaunch } from '../shared/workerProtocol.js';
import { parentChannel, type ParentChannel } from './parentChannel.js';
import { VariantRunner } from './variantRunner.js';
import { WorkerMetrics } from './workerMetrics.js';

const HEARTBEAT_MS = 5_000;
const STORE_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

async function openStoreWithRetry(launch: WorkerLaunch, channel: ParentChannel, log: JsonLinesLog, stopping: () => boolean): Promise<BarStore | null> {
  for (let attempt = 0; !stopping(); attempt++) {
    try {
      return await openBarStore(
        launch.barSource.kind === 'mysql'
          ? { mysqlUrl: launch.barSource.url, readonly: true }
          : { sqlitePath: launch.barSource.path ?? join(launch.dataDir, 'kestrel.db'), readonly: true },
      );
    } catch (err) {
      if (!(err instanceof BarStoreUnavailableError)) throw err;
      // An unreachable bar store is waited for, not crashed on: nothing is lost by waiting.
      const delay = STORE_RETRY_MS[Math.min(attempt, STORE_RETRY_MS.length - 1)] ?? 30_000;
      channel.send({ type: 'status', status: 'restoring', message: `waiting for the bar store: ${err.message}; retrying in ${delay / 1000} s` });
      if (attempt === 0) {
        channel.send({ type: 'alert', level: 'ERROR', title: 'Bar store unreachable', message: `${launch.variant.name}: ${err.message}; retrying`, key: `${launch.variant.name}:store-down` });
      }
      log.error('bar store unreachable; retrying', { error: err.message, delayMs: delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  return null;
}

async function main(): Promise<void> {
  const raw = process.env[WORKER_LAUNCH_ENV];
  if (!raw) {
    process.stderr.write(`kestrel worker: ${WORKER_LAUNCH_ENV} is not set; workers are started by the supervisor\n`);
    process.exit(2);
  }
  const launch = workerLaunchSchema.parse(JSON.parse(raw));
  const channel = parentChannel();
  const log = new JsonLinesLog(join(launch.dataDir, 'logs', launch.variant.name, 'strategy.log'), launch.variant.name);
  log.info('worker started', { pid: process.pid, vtSymbol: launch.variant.vtSymbol, window: launch.variant.windowMinutes });

  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  let runner: VariantRunner | null = null;
  let store: BarStore | null = null;
  // The journal (state, trades, orders) always lives in the local kestrel.db, whatever the bar source.
  const journal = TradingJournal.open(join(launch.dataDir, 'kestrel.db'));

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (timer) clearTimeout(timer);
    runner?.stop();
    await store?.close();
    journal.close();
    log.close();
    channel.send({ type: 'stopped' });
    // Let the message flush before the process goes.
    setTimeout(() => process.exit(0), 20);
  };
  channel.onMessage((m) => {
    if (m.type === 'stop') void shutdown();
    else if (m.type === 'halt') runner?.setHalted(m.halted);
  });
  process.on('SIGTERM', () => void shutdown());
  // A parent that died (even by SIGKILL) takes its workers with it; state is committed on the way out.
  process.on('disconnect', () => void shutdown());

  store = await openStoreWithRetry(launch, channel, log, () => stopping);
  if (!store) return;
  const metrics = new WorkerMetrics();
  const sendMetrics = (): void => {
    void metrics.families().then(
      (families) => {
        if (!stopping) channel.send({ type: 'metrics', families });
      },
      (err: unknown) => log.warn('metrics not collected', { error: err instanceof Error ? err.message : String(err) }),
    );
  };
  runner = new VariantRunner(launch, {
    store,
    journal,
    log,
    onStatus: (status, message) => channel.send({ type: 'status', status, message }),
    onAlert: (a) => channel.send({ type: 'alert', ...a }),
    onTrade: (t) => channel.send({ type: 'trade', tradeId: t.id, vtSymbol: t.vtSymbol, side: t.side, offset: t.offset, price: t.price, volume: t.volume }),
    onBarProcessed: (latency) => metrics.barProcessed(latency),
    onRestored: (seconds) => {
      metrics.restored(seconds);
      sendMetrics();
    },
  });
  for (let attempt = 0; ; attempt++) {
    try {
      await runner.restore();
      break;
    } catch (err) {
      if (!(err instanceof BarStoreUnavailableError) || stopping) throw err;
      const delay = STORE_RETRY_MS[Math.min(attempt, STORE_RETRY_MS.length - 1)] ?? 30_000;
      channel.send({ type: 'status', status: 'restoring', message: `restore waits for the bar store: ${err.message}` });
      if (attempt === 0) channel.send({ type: 'alert', level: 'ERROR', title: 'Bar store unreachable during restore', message: `${launch.variant.name}: ${err.message}; retrying`, key: `${launch.variant.name}:store-down` });
      log.error('restore: bar store unreachable; retrying', { error: err.message });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
  const active = runner;
  let lastBeat = Date.now();
  const tick = async (): Promise<void> => {
    if (stopping) return;
    try {
      await active.follow();
    } catch (err) {
      log.error('reading the bar store failed; will retry', { error: (err as Error).message });
    }
    if (Date.now() - lastBeat >= HEARTBEAT_MS) {
      active.heartbeat();
      metrics.feed(active.feedStalled);
      sendMetrics();
      lastBeat = Date.now();
    }
    if (!stopping) timer = setTimeout(() => void tick(), launch.variant.pollMs);
  };
  await tick();
}

main().catch((err: unknown) => {
  process.stderr.write(`kestrel worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
