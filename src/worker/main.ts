/**
 * The strategy worker process: one per variant. Started by the supervisor (a Node child
 * process, or an Electron utility process) with its launch config in the environment.
 */
import { join } from 'node:path';
import { openBarStore } from '../io/openBarStore.js';
import { JsonLinesLog } from '../io/jsonLinesLog.js';
import { WORKER_LAUNCH_ENV, workerLaunchSchema } from '../shared/workerProtocol.js';
import { parentChannel } from './parentChannel.js';
import { VariantRunner } from './variantRunner.js';

const HEARTBEAT_MS = 5_000;

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

  const store = await openBarStore(
    launch.barSource.kind === 'mysql'
      ? { mysqlUrl: launch.barSource.url, readonly: true }
      : { sqlitePath: launch.barSource.path ?? join(launch.dataDir, 'kestrel.db'), readonly: true },
  );
  const runner = new VariantRunner(launch, {
    store,
    log,
    onStatus: (status, message) => channel.send({ type: 'status', status, message }),
  });

  let stopping = false;
  let timer: NodeJS.Timeout | null = null;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (timer) clearTimeout(timer);
    runner.stop();
    await store.close();
    log.close();
    channel.send({ type: 'stopped' });
    // Let the message flush before the process goes.
    setTimeout(() => process.exit(0), 20);
  };
  channel.onMessage((m) => {
    if (m.type === 'stop') void shutdown();
  });
  process.on('SIGTERM', () => void shutdown());

  await runner.restore();
  let lastBeat = Date.now();
  const tick = async (): Promise<void> => {
    if (stopping) return;
    try {
      await runner.follow();
    } catch (err) {
      log.error('reading the bar store failed; will retry', { error: (err as Error).message });
    }
    if (Date.now() - lastBeat >= HEARTBEAT_MS) {
      runner.heartbeat();
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
