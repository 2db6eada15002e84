/**
 * The backtest queue and its pool of worker threads: priority order (higher first, then
 * submission order), a concurrency of `threads`, pause/resume of one job or of the whole queue,
 * cancel (a running job stops at its next checkpoint, milliseconds away). Bars are loaded once
 * per vtSymbol into shared memory and handed to every job that needs them (a sweep's jobs share
 * one copy), and released when no queued or running job needs them any more.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BacktestRun } from '../../core/backtest/runBacktest.js';
import type { SharedBars } from './barCache.js';
import type { BacktestJob } from '../../shared/backtest.js';
import { CONTROL_CANCEL, CONTROL_PAUSE, CONTROL_RUN, type FromThread, type JobProgress, type RunJobMessage } from './threadProtocol.js';

export interface JobOutcome {
  status: 'completed' | 'cancelled';
  /** Null when the job was cancelled before it started. */
  run: BacktestRun | null;
  durationMs: number;
}

export interface JobPoolOptions {
  /** Concurrent jobs (threads); default max(1, cores − 1). */
  threads?: number;
  loadBars(vtSymbol: string): Promise<SharedBars>;
  onProgress?: (id: string, progress: JobProgress) => void;
  /** A job started running (its bars are loaded). */
  onStart?: (id: string) => void;
  /** Milliseconds between two progress reports of a job; default 100 (at most 10 a second). */
  progressEveryMs?: number;
}

interface Entry {
  id: string;
  job: BacktestJob;
  seq: number;
  paused: boolean;
  /** Cancelled while its bars were loading. */
  cancelled: boolean;
  control: Int32Array | null;
  thread: Worker | null;
  resolve: (o: JobOutcome) => void;
  reject: (err: Error) => void;
}

/** Where the thread entry is: beside this module's source under tsx, or beside the built bundle. */
export function resolveThreadEntry(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return new URL('../../worker/backtest/jobThread.ts', import.meta.url);
  for (const candidate of [join(dirname(here), 'backtestThread.js'), join(dirname(here), '..', 'backtestThread.js')]) {
    if (existsSync(candidate)) return new URL(`file://${candidate}`);
  }
  throw new Error(`the backtest thread entry (backtestThread.js) is not beside ${dirname(here)}; run \`npm run build\``);
}

/**
 * From source (tests, tsx) a thread needs TypeScript, and Node 20 does not pass tsx's loader hooks
 * on to worker threads: the thread entry is bundled once with esbuild (tsx's own compiler) into
 * out/dev/, where its npm imports resolve from the project's node_modules.
 */
async function devThreadEntry(entry: URL): Promise<URL> {
  const root = join(dirname(fileURLToPath(entry)), '..', '..', '..');
  // entry = <root>/src/worker/backtest/jobThread.ts
  const outfile = join(root, 'out', 'dev', `backtestThread-${process.pid}.mjs`);
  devEntryBuilt ??= import('esbuild').then((esbuild) =>
    esbuild.build({ entryPoints: [fileURLToPath(entry)], outfile, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'error' }),
  );
  await devEntryBuilt;
  return pathToFileURL(outfile);
}
let devEntryBuilt: Promise<unknown> | null = null;

async function threadEntry(): Promise<URL> {
  const entry = resolveThreadEntry();
  return entry.pathname.endsWith('.ts') ? devThreadEntry(entry) : entry;
}

export class JobPool {
  readonly threads: number;
  private readonly queue: Entry[] = [];
  private readonly running = new Map<string, Entry>();
  private readonly idle: Worker[] = [];
  private readonly all = new Set<Worker>();
  private readonly bars = new Map<string, Promise<SharedBars>>();
  private readonly progressEveryMs: number;
  private queuePaused = false;
  private entry: Promise<URL> | null = null;
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: JobPoolOptions) {
    this.threads = Math.max(1, Math.floor(opts.threads ?? defaultConcurrency()));
    this.progressEveryMs = opts.progressEveryMs ?? 100;
  }

  /** Queues a job; resolves when it completes or is cancelled, rejects when it fails. */
  submit(id: string, job: BacktestJob): Promise<JobOutcome> {
    if (this.closed) return Promise.reject(new Error('the job pool is closed'));
    if (this.has(id)) return Promise.reject(new Error(`job ${id} is already queued`));
    return new Promise<JobOutcome>((resolve, reject) => {
      this.queue.push({ id, job, seq: this.seq++, paused: false, cancelled: false, control: null, thread: null, resolve, reject });
      this.queue.sort((a, b) => b.job.priority - a.job.priority || a.seq - b.seq);
      this.pump();
    });
  }

  has(id: string): boolean {
    return this.running.has(id) || this.queue.some((e) => e.id === id);
  }

  stateOf(id: string): 'queued' | 'running' | 'paused' | null {
    const r = this.running.get(id);
    if (r) return r.paused || this.queuePaused ? 'paused' : 'running';
    const q = this.queue.find((e) => e.id === id);
    return q ? (q.paused ? 'paused' : 'queued') : null;
  }

  pause(id: string): boolean {
    const e = this.running.get(id) ?? this.queue.find((q) => q.id === id);
    if (!e) return false;
    e.paused = true;
    this.signal(e);
    return true;
  }

  resume(id: string): boolean {
    const e = this.running.get(id) ?? this.queue.find((q) => q.id === id);
    if (!e) return false;
    e.paused = false;
    this.signal(e);
    this.pump();
    return true;
  }

  pauseQueue(): void {
    this.queuePaused = true;
    for (const e of this.running.values()) this.signal(e);
  }

  resumeQueue(): void {
    this.queuePaused = false;
    for (const e of this.running.values()) this.signal(e);
    this.pump();
  }

  get paused(): boolean {
    return this.queuePaused;
  }

  cancel(id: string): boolean {
    const r = this.running.get(id);
    if (r) {
      r.cancelled = true;
      if (r.control) {
        Atomics.store(r.control, 0, CONTROL_CANCEL);
        Atomics.notify(r.control, 0);
      }
      return true;
    }
    const i = this.queue.findIndex((q) => q.id === id);
    if (i < 0) return false;
    const [e] = this.queue.splice(i, 1);
    this.releaseBars(e as Entry);
    e?.resolve({ status: 'cancelled', run: null, durationMs: 0 });
    return true;
  }

  /** Cancels everything and ends the threads. */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of [...this.queue]) this.cancel(e.id);
    for (const id of [...this.running.keys()]) this.cancel(id);
    await Promise.all([...this.all].map((w) => w.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }

  private signal(e: Entry): void {
    if (!e.control || Atomics.load(e.control, 0) === CONTROL_CANCEL) return;
    Atomics.store(e.control, 0, e.paused || this.queuePaused ? CONTROL_PAUSE : CONTROL_RUN);
    Atomics.notify(e.control, 0);
  }

  private pump(): void {
    if (this.closed || this.queuePaused) return;
    while (this.running.size < this.threads) {
      const i = this.queue.findIndex((e) => !e.paused);
      if (i < 0) return;
      const [e] = this.queue.splice(i, 1) as [Entry];
      this.running.set(e.id, e);
      void this.start(e);
    }
  }

  private async start(e: Entry): Promise<void> {
    let bars: SharedBars[];
    try {
      bars = await Promise.all(e.job.symbols.map((vt) => this.barsOf(vt)));
    } catch (err) {
      this.finish(e);
      e.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (e.cancelled) {
      this.finish(e);
      e.resolve({ status: 'cancelled', run: null, durationMs: 0 });
      this.pump();
      return;
    }
    const control = new SharedArrayBuffer(4);
    e.control = new Int32Array(control);
    this.signal(e);
    let thread = this.idle.pop();
    if (thread === undefined) {
      this.entry ??= threadEntry();
      thread = this.spawn(await this.entry);
    }
    e.thread = thread;
    this.opts.onStart?.(e.id);
    const message: RunJobMessage = { type: 'run', id: e.id, job: e.job, bars, control, progressEveryMs: this.progressEveryMs };
    thread.postMessage(message);
  }

  private spawn(entry: URL): Worker {
    const w = new Worker(entry);
    this.all.add(w);
    w.on('message', (m: FromThread) => this.onThreadMessage(m));
    w.on('error', (err) => this.onThreadGone(w, err));
    w.on('exit', (code) => this.onThreadGone(w, new Error(`backtest thread exited with code ${code}`)));
    return w;
  }

  private onThreadMessage(m: FromThread): void {
    const e = this.running.get(m.id);
    if (!e) return;
    if (m.type === 'progress') {
      const { type: _t, id: _i, ...progress } = m;
      this.opts.onProgress?.(m.id, progress);
      return;
    }
    this.finish(e);
    if (e.thread) this.idle.push(e.thread);
    if (m.type === 'done') e.resolve({ status: m.run.status, run: m.run, durationMs: m.durationMs });
    else e.reject(new Error(m.error));
    this.pump();
  }

  /** A thread died (it should not): its job fails, the thread is replaced on demand. */
  private onThreadGone(w: Worker, err: Error): void {
    if (!this.all.delete(w)) return;
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
    for (const e of [...this.running.values()]) {
      if (e.thread !== w) continue;
      this.finish(e);
      e.reject(this.closed ? new Error('the job pool was closed') : err);
    }
    this.pump();
  }

  private finish(e: Entry): void {
    this.running.delete(e.id);
    this.releaseBars(e);
  }

  private barsOf(vtSymbol: string): Promise<SharedBars> {
    let p = this.bars.get(vtSymbol);
    if (!p) {
      p = this.opts.loadBars(vtSymbol);
      this.bars.set(vtSymbol, p);
      p.catch(() => this.bars.delete(vtSymbol));
    }
    return p;
  }

  /** Forget bars nobody queued or running needs (a later job reloads them: the cache may have changed). */
  private releaseBars(done: Entry): void {
    const needed = new Set<string>();
    for (const e of [...this.queue, ...this.running.values()]) for (const s of e.job.symbols) needed.add(s);
    for (const s of done.job.symbols) if (!needed.has(s)) this.bars.delete(s);
  }
}

export function defaultConcurrency(cores = availableCores()): number {
  return Math.max(1, cores - 1);
}

function availableCores(): number {
  return availableParallelism();
}
