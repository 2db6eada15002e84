/**
 * What `kestrel backtest` and `kestrel sweep` share: reading a config file into a checked
 * record (every problem one line naming the file and the field, exit 2), the bar store and its
 * cache, the thread pool, progress on the terminal, and Ctrl-C as a clean cancel.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { z } from 'zod';
import { jobProblems } from '../../core/backtest/jobCheck.js';
import { cacheDirFor, sharedBarsLoader } from '../../io/backtest/barCache.js';
import { JobPool } from '../../io/backtest/jobPool.js';
import { RedisJobQueue, type BacktestQueue } from '../../io/backtest/redisJobQueue.js';
import { redisQueueUrl } from '../../shared/config.js';
import type { JobProgress } from '../../io/backtest/threadProtocol.js';
import type { BarStore } from '../../io/barStore.js';
import type { BacktestJob } from '../../shared/backtest.js';
import type { FieldError } from '../../shared/contractKit.js';
import { UsageError, type CliIo } from './command.js';
import { defaultDataDir } from './storeFlags.js';

/** A config file's problem: `job.json: field "to": …` (the field is "(file)" when the file itself is wrong). */
export class ConfigError extends UsageError {
  constructor(file: string, field: string, message: string) {
    super(`${file}: field "${field}": ${message}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates a JSON config file against `schema`. */
export function readConfig<S extends z.ZodType>(io: CliIo, file: string, schema: S): z.infer<S> {
  const path = resolve(io.cwd, file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(file, '(file)', code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(err)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(file)', `not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(file, issue && issue.path.length > 0 ? issue.path.join('.') : '(root)', issue?.message ?? 'invalid');
  }
  return parsed.data as z.infer<S>;
}

/** Strategy, params and symbols against the store; the first problem as a ConfigError. */
export async function checkJob(file: string, job: BacktestJob, store: BarStore, prefix = ''): Promise<void> {
  const known = new Set((await store.overview()).filter((o) => o.interval === '1m' && o.count > 0).map((o) => `${o.symbol}.${o.exchange}`));
  const problems: FieldError[] = jobProblems(job, known);
  const first = problems[0];
  if (first) throw new ConfigError(file, `${prefix}${first.path}`, first.message);
}

export interface ProgressSink {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

/** cli-progress on a terminal; a plain line per 10 % otherwise (logs, pipes, CI). */
export function progressSink(io: CliIo, what: string): ProgressSink {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { format: `${what} [{bar}] {percentage}% | {value}/{total} | {label}`, stream: io.stderr as NodeJS.WriteStream, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, label) {
        if (!started) {
          bar.start(total, 0, { label });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { label });
      },
      stop: () => bar.stop(),
    };
  }
  let lastTenth = -1;
  return {
    update(done, total, label) {
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (tenth <= lastTenth) return;
      lastTenth = tenth;
      io.stderr.write(`${what}: ${tenth * 10}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')}) ${label}\n`);
    },
    stop: () => undefined,
  };
}

/** A pool reading bars through the cache of `dataDir` (or the default data directory). */
export function poolFor(store: BarStore, io: CliIo, dataDirFlag: string | undefined, threads: number | undefined, hooks: Pick<ConstructorParameters<typeof JobPool>[0], 'onProgress'>): JobPool {
  const dataDir = resolve(io.cwd, dataDirFlag ?? defaultDataDir());
  return new JobPool({ ...(threads === undefined ? {} : { threads }), loadBars: sharedBarsLoader(store, cacheDirFor(dataDir, store)), ...hooks });
}

/** Where jobs go: this machine's threads (default) or a BullMQ queue on Redis. */
export const QUEUE_FLAGS = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
} as const;

export const QUEUE_USAGE = `Queue (default: this machine's threads):
  --queue URL         redis://host:6379 — jobs go to a BullMQ queue that \`kestrel backtest-worker\` processes take
  --queue-name NAME   the queue's name (default kestrel-backtests)`;

/** `--queue redis://…` checked: a URL Redis can be reached at, or a usage error. */
export function queueAddressOf(values: { queue?: string; 'queue-name'?: string }): { url: string; name?: string } | null {
  if (values.queue === undefined) return null;
  if (redisQueueUrl(values.queue) === null) throw new UsageError(`--queue: "${values.queue}" is not a redis:// URL`);
  return { url: values.queue, ...(values['queue-name'] === undefined ? {} : { name: values['queue-name'] }) };
}

/** The in-process pool, or with --queue the Redis queue (bars then come from the workers' stores). */
export function queueFor(
  store: BarStore,
  io: CliIo,
  values: { queue?: string; 'queue-name'?: string; 'data-dir'?: string },
  threads: number | undefined,
  onProgress: (id: string, p: JobProgress) => void,
): BacktestQueue {
  const address = queueAddressOf(values);
  if (address) return new RedisJobQueue(address, { onProgress });
  return poolFor(store, io, values['data-dir'], threads, { onProgress });
}

/** Ctrl-C (and SIGTERM) cancel through `cancel`; the returned function removes the handlers. */
export function onInterrupt(cancel: () => void): () => void {
  const handler = (): void => cancel();
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

/** Exit code of a run the user interrupted (128 + SIGINT), as shells expect. */
export const EXIT_INTERRUPTED = 130;
