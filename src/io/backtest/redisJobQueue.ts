/**
 * Backtests beyond one machine: the same queue contract as the in-process JobPool (submit →
 * outcome, cancel, close), over a BullMQ queue on Redis. Any number of `kestrel backtest-worker`
 * processes take the jobs and run each through their own JobPool, i.e. the very thread code the
 * in-process queue runs. Progress comes back as BullMQ job progress, the outcome as the job's
 * return value. BullMQ can only cancel a job on the worker that owns it, so a cancel is a Redis
 * pub/sub message every worker hears (plus a short-lived key for a job that is just starting).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { BacktestJob } from '../../shared/backtest.js';
import { DEFAULT_BACKTEST_QUEUE_NAME } from '../../shared/config.js';
import type { JobOutcome, JobPool } from './jobPool.js';
import type { JobProgress } from './threadProtocol.js';

/** What the in-process pool and the Redis queue both offer a caller that only runs jobs. */
export interface BacktestQueue {
  submit(id: string, job: BacktestJob): Promise<JobOutcome>;
  cancel(id: string): boolean;
  close(): Promise<void>;
}

export const DEFAULT_QUEUE_NAME = DEFAULT_BACKTEST_QUEUE_NAME;
export const DEFAULT_QUEUE_PREFIX = 'kestrel';

export interface RedisQueueAddress {
  /** redis://host:6379 */
  url: string;
  name?: string;
  /** Key prefix in Redis (tests use a fresh one per run). */
  prefix?: string;
}

interface QueuedJob {
  job: BacktestJob;
}

/** Progress as it travels through BullMQ: the thread's progress and who is running the job. */
export interface RemoteProgress extends JobProgress {
  worker: string;
}

function redisOf(url: string): Redis {
  // BullMQ's blocking commands need maxRetriesPerRequest null.
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

function names(a: RedisQueueAddress): { name: string; prefix: string; cancelChannel: string; cancelKey: (jobId: string) => string } {
  const name = a.name ?? DEFAULT_QUEUE_NAME;
  const prefix = a.prefix ?? DEFAULT_QUEUE_PREFIX;
  return { name, prefix, cancelChannel: `${prefix}:${name}:cancel`, cancelKey: (jobId) => `${prefix}:${name}:cancelled:${jobId}` };
}

/** How long a cancel stays on record for a job a worker has not picked up yet. */
const CANCEL_KEY_TTL_S = 24 * 3600;

/** The submitting side: the workstation or `kestrel sweep --queue`. */
export class RedisJobQueue implements BacktestQueue {
  private readonly redis: Redis;
  private readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly n: ReturnType<typeof names>;
  /** Job ids of this client are unique across clients sharing the queue (a sweep's run ids repeat). */
  private readonly tag = randomUUID().slice(0, 8);
  private readonly pending = new Map<string, { resolve: (o: JobOutcome) => void; reject: (e: Error) => void; id: string }>();
  private ready: Promise<unknown>;

  constructor(
    address: RedisQueueAddress,
    private readonly opts: {
      onProgress?: (id: string, progress: RemoteProgress) => void;
      /** A worker took the job (BullMQ's `active`); again when a stalled job is taken by another worker. */
      onStart?: (id: string) => void;
    } = {},
  ) {
    this.n = names(address);
    this.redis = redisOf(address.url);
    this.queue = new Queue(this.n.name, { connection: this.redis, prefix: this.n.prefix });
    this.events = new QueueEvents(this.n.name, { connection: redisOf(address.url), prefix: this.n.prefix });
    this.events.on('progress', ({ jobId, data }) => {
      const p = this.pending.get(jobId);
      if (p && typeof data === 'object') this.opts.onProgress?.(p.id, data as unknown as RemoteProgress);
    });
    this.events.on('active', ({ jobId }) => {
      const p = this.pending.get(jobId);
      if (p) this.opts.onStart?.(p.id);
    });
    this.events.on('completed', ({ jobId, returnvalue }) => {
      const p = this.pending.get(jobId);
      if (!p) return;
      this.pending.delete(jobId);
      p.resolve(returnvalue as unknown as JobOutcome);
    });
    this.events.on('failed', ({ jobId, failedReason }) => {
      const p = this.pending.get(jobId);
      if (!p) return;
      this.pending.delete(jobId);
      p.reject(new Error(failedReason));
    });
    this.ready = Promise.all([this.events.waitUntilReady(), this.queue.waitUntilReady()]);
  }

  private jobIdOf(id: string): string {
    return `${this.tag}.${id}`;
  }

  submit(id: string, job: BacktestJob): Promise<JobOutcome> {
    const jobId = this.jobIdOf(id);
    if (this.pending.has(jobId)) return Promise.reject(new Error(`job ${id} is already queued`));
    return new Promise<JobOutcome>((resolve, reject) => {
      this.pending.set(jobId, { resolve, reject, id });
      this.ready
        .then(() =>
          this.queue.add('backtest', { job } satisfies QueuedJob, {
            jobId,
            // BullMQ priority: 1 is highest, 0 none; a job's priority is "higher first".
            ...(job.priority > 0 ? { priority: Math.max(1, 1000 - job.priority) } : {}),
            removeOnComplete: true,
            removeOnFail: true,
          }),
        )
        .catch((err: unknown) => {
          this.pending.delete(jobId);
          reject(err instanceof Error ? err : new Error(String(err)));
        });
    });
  }

  cancel(id: string): boolean {
    const jobId = this.jobIdOf(id);
    const p = this.pending.get(jobId);
    if (!p) return false;
    void (async () => {
      await this.redis.set(this.n.cancelKey(jobId), '1', 'EX', CANCEL_KEY_TTL_S);
      // A waiting job is simply taken off the queue; one a worker holds is locked and stays.
      const removed = await this.queue.remove(jobId).catch(() => 0);
      if (removed === 1 && this.pending.delete(jobId)) {
        p.resolve({ status: 'cancelled', run: null, durationMs: 0 });
        return;
      }
      await this.redis.publish(this.n.cancelChannel, jobId);
    })().catch(() => undefined);
    return true;
  }

  async close(): Promise<void> {
    for (const id of [...this.pending.values()].map((p) => p.id)) this.cancel(id);
    await this.events.close();
    await this.queue.close();
    this.redis.disconnect();
  }
}

export interface BacktestWorkerOptions {
  /** BullMQ lock of a job a worker holds; a worker that stops renewing it (killed) loses the job to another after this. */
  lockDurationMs?: number;
  /** How often workers look for jobs whose lock expired. */
  stalledIntervalMs?: number;
  onEvent?: (line: string) => void;
}

/**
 * The taking side (`kestrel backtest-worker`): a BullMQ worker whose concurrency is the pool's
 * thread count, each job run by `pool` (progress throttled there to ≤ 10/s).
 */
export class RedisBacktestWorker {
  private readonly worker: Worker<QueuedJob, JobOutcome>;
  private readonly subscriber: Redis;
  private readonly redis: Redis;
  /** BullMQ leaves a connection it was given open: closed here. */
  private readonly workerConnection: Redis;
  private readonly running = new Map<string, Job<QueuedJob, JobOutcome>>();
  readonly name = `${hostname()}:${process.pid}`;

  constructor(
    address: RedisQueueAddress,
    private readonly pool: JobPool,
    opts: BacktestWorkerOptions = {},
  ) {
    const n = names(address);
    this.redis = redisOf(address.url);
    this.subscriber = redisOf(address.url);
    this.workerConnection = redisOf(address.url);
    void this.subscriber.subscribe(n.cancelChannel);
    this.subscriber.on('message', (_channel: string, jobId: string) => {
      if (this.running.has(jobId)) {
        opts.onEvent?.(`cancel ${jobId}`);
        this.pool.cancel(jobId);
      }
    });
    this.worker = new Worker<QueuedJob, JobOutcome>(
      n.name,
      async (job) => {
        const jobId = job.id ?? '';
        if ((await this.redis.exists(n.cancelKey(jobId))) === 1) return { status: 'cancelled', run: null, durationMs: 0 };
        this.running.set(jobId, job);
        opts.onEvent?.(`start ${jobId}`);
        try {
          const outcome = await this.pool.submit(jobId, job.data.job);
          opts.onEvent?.(`${outcome.status} ${jobId}`);
          return outcome;
        } finally {
          this.running.delete(jobId);
        }
      },
      {
        connection: this.workerConnection,
        prefix: n.prefix,
        concurrency: pool.threads,
        ...(opts.lockDurationMs === undefined ? {} : { lockDuration: opts.lockDurationMs }),
        ...(opts.stalledIntervalMs === undefined ? {} : { stalledInterval: opts.stalledIntervalMs }),
      },
    );
    this.worker.on('error', (err) => opts.onEvent?.(`error ${err.message}`));
  }

  /** The pool reports progress here (JobPool's onProgress). */
  progress(jobId: string, p: JobProgress): void {
    const job = this.running.get(jobId);
    if (job) void job.updateProgress({ ...p, worker: this.name } satisfies RemoteProgress).catch(() => undefined);
  }

  waitUntilReady(): Promise<unknown> {
    return Promise.all([this.worker.waitUntilReady(), this.subscriber.ping()]);
  }

  /** Takes no more jobs and waits for those in hand. */
  async close(): Promise<void> {
    await this.worker.close();
    this.workerConnection.disconnect();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }
}
