/**
 * The strategy worker process: one per variant. Started by the supervisor (a Node child
 * process, or an Electron utility process) with its launch config in the environment.
 */
import { join } from 'node:path';
import { BarStoreUnavailableError, type BarStore } from '../io/barStore.js';
import { DiskGuard, installDiskGuard } from '../io/diskGuard.js';
import { JsonLinesLog } from '../io/jsonLinesLog.js';
import { openBarStore } from '../io/openBarStore.js';
import { followStore } from '../io/storeWatch.js';
import { TradingJournal } from '../io/tradingJournal.js';
import { MYSQL_POLL_MS } from '../shared/config.js';
import { WORKER_LAUNCH_ENV, workerLaunchSchema, type WorkerLaunch } from '../shared/workerProtocol.js';
import { parentChannel, type ParentChannel } from './parentChannel.js';
import { AllocationClient } from './allocationClient.js';
import { GrantLedger } from './grantLedger.js';
import { strategyFor } from '../core/strategy/registry.js';
import { productOf } from '../shared/bar.js';
import { STRATEGY_MODULES_ENV, loadStrategyModules } from './strategyModules.js';
import { VariantRunner } from './variantRunner.js';
import { WorkerMetrics } from './workerMetrics.js';

const HEARTBEAT_MS = 5_000;
const STORE_RETRY_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

interface StoreDownNotice {
  /** The status line while waiting, e.g. "waiting for the bar store". */
  waiting: string;
  /** The alert's title, raised once per outage (the first failed attempt). */
  title: string;
}

/**
 * Runs `attempt` until it succeeds, waiting with backoff while the bar store is unreachable: a
 * store that is down is waited for, not crashed on, since nothing is lost by waiting. Any other
 * error is thrown. Resolves null when the worker is asked to stop meanwhile.
 */
async function whileStoreDown<T>(
  attempt: () => Promise<T>,
  notice: StoreDownNotice,
  ctx: { launch: WorkerLaunch; channel: ParentChannel; log: JsonLinesLog; stopping: () => boolean },
): Promise<T | null> {
  const { launch, channel, log, stopping } = ctx;
  for (let n = 0; !stopping(); n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof BarStoreUnavailableError) || stopping()) throw err;
      const delay = STORE_RETRY_MS[Math.min(n, STORE_RETRY_MS.length - 1)] ?? 30_000;
      channel.send({ type: 'status', status: 'restoring', message: `${notice.waiting}: ${err.message}; retrying in ${delay / 1000} s` });
      if (n === 0) channel.send({ type: 'alert', level: 'ERROR', title: notice.title, message: `${launch.variant.name}: ${err.message}; retrying`, key: `${launch.variant.name}:store-down` });
      log.error(`${notice.waiting}; retrying`, { error: err.message, delayMs: delay });
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
  await loadStrategyModules(process.env[STRATEGY_MODULES_ENV]);
  const launch = workerLaunchSchema.parse(JSON.parse(raw));
  const channel = parentChannel();
  // This worker's own writes (journal, snapshot, log) report a full disk here; main hears of it.
  installDiskGuard(
    new DiskGuard({
      probeDir: launch.dataDir,
      onFull: (e) => channel.send({ type: 'alert', level: 'CRITICAL', title: 'Disk full', message: `${launch.variant.name}: ${e.message}; state and trades are held in memory and written when space returns`, key: `${launch.variant.name}:disk-full` }),
      onRecovered: (e) => channel.send({ type: 'alert', level: 'INFO', title: 'Disk space back', message: `${launch.variant.name}: writes work again (${e.code} since ${e.since.toISOString()})`, key: `${launch.variant.name}:disk-back` }),
    }),
  );
  const log = new JsonLinesLog(join(launch.dataDir, 'logs', launch.variant.name, 'strategy.log'), launch.variant.name);
  log.info('worker started', { pid: process.pid, vtSymbol: launch.variant.vtSymbol, window: launch.variant.windowMinutes });

  let stopping = false;
  let stopFollowing: (() => void) | null = null;
  let runner: VariantRunner | null = null;
  let store: BarStore | null = null;
  // The journal (state, trades, orders) always lives in the local kestrel.db, whatever the bar source.
  const journal = TradingJournal.open(join(launch.dataDir, 'kestrel.db'));

  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    stopFollowing?.();
    runner?.stop();
    await store?.close();
    journal.close();
    log.close();
    // The supervisor learns of the stop from the exit itself; the state is committed by now.
    process.exit(0);
  };
  channel.onMessage((m) => {
    if (m.type === 'stop') void shutdown();
    else if (m.type === 'halt') runner?.setHalted(m.halted);
    else if (m.type === 'flatten') runner?.flatten();
  });
  process.on('SIGTERM', () => void shutdown());
  // A parent that died (even by SIGKILL) takes its workers with it; state is committed on the way out.
  process.on('disconnect', () => void shutdown());

  const retry = { launch, channel, log, stopping: () => stopping };
  store = await whileStoreDown(
    () =>
      openBarStore(
        launch.barSource.kind === 'mysql'
          ? { mysqlUrl: launch.barSource.url, readonly: true }
          : { sqlitePath: launch.barSource.path ?? join(launch.dataDir, 'kestrel.db'), readonly: true },
      ),
    { waiting: 'waiting for the bar store', title: 'Bar store unreachable' },
    retry,
  );
  if (!store) return;
  const metrics = new WorkerMetrics();
  const sendMetrics = (): void => {
    // Taken now, not when the families are ready: a refusal made meanwhile goes with the next report.
    const refusals = runner ? metrics.refusalDeltas(runner.refusalCounts()) : undefined;
    void metrics.families().then(
      (families) => {
        if (!stopping) channel.send({ type: 'metrics', families, ...(refusals ? { refusals } : {}) });
      },
      (err: unknown) => log.warn('metrics not collected', { error: err instanceof Error ? err.message : String(err) }),
    );
  };
  const allocator = grantLedgerOf(launch, channel, log);
  runner = new VariantRunner(launch, {
    ...(allocator ? { allocator } : {}),
    store,
    journal,
    log,
    onStatus: (status, message) => channel.send({ type: 'status', status, message }),
    onAlert: (a) => channel.send({ type: 'alert', ...a }),
    onLive: (update) => channel.send({ type: 'live', ...update }),
    onBarProcessed: (latency) => metrics.barProcessed(latency),
    onRestored: (seconds) => {
      metrics.restored(seconds);
      sendMetrics();
    },
  });
  const restoring = runner;
  const restored = await whileStoreDown(
    async () => {
      await restoring.restore();
      return true;
    },
    { waiting: 'restore waits for the bar store', title: 'Bar store unreachable during restore' },
    retry,
  );
  if (!restored) return;
  const active = runner;
  let lastBeat = Date.now();
  const read = async (): Promise<void> => {
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
  };
  // SQLite: a commit wakes the reader at once, the variant's poll is the fallback. MySQL: polled.
  const pollMs = launch.barSource.kind === 'mysql' ? (launch.barSource.pollMs ?? MYSQL_POLL_MS) : launch.variant.pollMs;
  const follower = followStore(store, {
    read,
    pollMs,
    watch: launch.variant.feed.kind === 'follow',
    onWatchError: (err) => log.warn('the bar store cannot be watched; polling only', { error: err.message, pollMs }),
  });
  // The heartbeat keeps its beat whatever the poll: it takes a turn of the reader, never overlapping a read.
  const beat = setInterval(() => follower.wake(), HEARTBEAT_MS);
  log.info('following the bar store', { mode: follower.mode, pollMs });
  stopFollowing = () => {
    clearInterval(beat);
    follower.close();
  };
}

/** A member of an allocation group asks main before every buy, through a grant ledger. */
function grantLedgerOf(launch: WorkerLaunch, channel: ParentChannel, log: JsonLinesLog): GrantLedger | null {
  if (!launch.allocation) return null;
  const params = strategyFor(launch.variant.strategy, launch.variant.params, `variant ${launch.variant.name}`).params;
  const client = new AllocationClient(channel, { group: launch.allocation.group, variant: launch.variant.name, timeoutMs: launch.allocation.requestTimeoutMs });
  log.info('allocation group', { group: launch.allocation.group, requestTimeoutMs: launch.allocation.requestTimeoutMs });
  return new GrantLedger(client, {
    multiplierOf: (vt) => params.contracts[productOf(vt)]?.contractMultiplier ?? params.contractMultiplier,
    log: (message, context) => log.info(message, context),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`kestrel worker failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
