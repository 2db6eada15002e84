import { existsSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ApiError } from '../../shared/contractKit.js';
import type { RangeHit, RangeScanJob, RangeScanResult } from './rangeScan.js';

/**
 * Log scans run on worker threads, never on the main thread's event loop: a file is cut into
 * byte ranges at line starts, one range per core, each searched by a thread (scanThread.ts), and
 * the hits are put back in file order. A scan that runs past its time budget, or whose caller
 * goes away, is ended by terminating its threads, which stops even a regular expression stuck in
 * catastrophic backtracking (V8 cannot interrupt one otherwise). Idle threads are kept for the
 * next scan, unref'd, and dropped after a while.
 */

export const CONTROL_STOP = 0;
export const CONTROL_ALLOWED = 1;

export interface ScanThreadRequest {
  job: RangeScanJob;
  /** Int32Array: [CONTROL_STOP] 1 = stop; [CONTROL_ALLOWED] hits the thread may send before it waits. */
  control: SharedArrayBuffer;
}

export type ScanThreadMessage =
  | { type: 'found'; hits: RangeHit[]; scannedTo: number; linesTo: number }
  | { type: 'done'; result: RangeScanResult }
  | { type: 'failed'; message: string; status: number | null };

const IDLE_MS = 60_000;
/** Idle threads kept even on a machine with fewer cores (a search may ask for more ranges). */
const MIN_IDLE_KEPT = 4;
/** A thread asked to stop (the hit limit was reached) that does not within this is terminated. */
const STOP_GRACE_MS = 1000;

let devBundle: Promise<string> | null = null;

/**
 * The thread's entry file: the built bundle's logScan.js beside this module; or, run from source
 * (tests, tsx), scanThread.ts bundled once per process by esbuild (the build toolchain's) into a
 * temporary file. Loader hooks (tsx) in a thread would cost the main thread tens of milliseconds
 * at each start and end of a thread, which is what these threads are there to avoid.
 */
function threadEntry(): Promise<string> {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    devBundle ??= (async () => {
      const esbuild = await import('esbuild');
      const outfile = join(tmpdir(), `kestrel-logscan-${process.pid}-${Date.now()}.mjs`);
      await esbuild.build({
        entryPoints: [fileURLToPath(new URL('./scanThread.ts', here))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        logLevel: 'silent',
      });
      process.once('exit', () => rmSync(outfile, { force: true }));
      return outfile;
    })();
    return devBundle;
  }
  const dir = dirname(fileURLToPath(here));
  for (const candidate of [join(dir, 'logScan.js'), join(dir, '..', 'logScan.js')]) {
    if (existsSync(candidate)) return Promise.resolve(candidate);
  }
  return Promise.reject(new Error(`the log scan thread (logScan.js) is not beside ${dir}; run \`npm run build\``));
}

class ScanThreadPool {
  private readonly idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];
  private started = 0;
  private busy = 0;
  readonly size = Math.max(1, availableParallelism());

  /** Threads started so far (a test sees cancelled scans replaced, not leaked). */
  get threadsStarted(): number {
    return this.started;
  }

  get idleThreads(): number {
    return this.idle.length;
  }

  /** Threads running a scan now. */
  get busyThreads(): number {
    return this.busy;
  }

  /** An idle thread, or a new one (null when the entry cannot be found). */
  acquire(): Worker | Promise<Worker> {
    this.busy++;
    const kept = this.idle.pop();
    if (kept) {
      clearTimeout(kept.timer);
      kept.worker.ref();
      return kept.worker;
    }
    this.started++;
    return threadEntry().then(
      (file) => new Worker(file),
      (err: unknown) => {
        this.busy--;
        throw err;
      },
    );
  }

  release(worker: Worker): void {
    this.busy--;
    worker.removeAllListeners('message');
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    worker.unref();
    const timer = setTimeout(() => {
      const i = this.idle.findIndex((t) => t.worker === worker);
      if (i !== -1) this.idle.splice(i, 1);
      void worker.terminate();
    }, IDLE_MS);
    timer.unref();
    this.idle.push({ worker, timer });
    while (this.idle.length > Math.max(this.size, MIN_IDLE_KEPT)) {
      const extra = this.idle.shift();
      if (!extra) break;
      clearTimeout(extra.timer);
      void extra.worker.terminate();
    }
  }

  discard(worker: Worker): void {
    this.busy--;
    worker.removeAllListeners();
    void worker.terminate();
  }
}

export const scanThreads = new ScanThreadPool();

export interface RangeRun {
  /** Allow the thread to send this many hits in all before it waits. */
  allow(hits: number): void;
  /** Ask the thread to stop after its current chunk. */
  stop(): void;
}

export interface ParallelScanHandlers {
  found(range: number, hits: RangeHit[], scannedTo: number, linesTo: number): void;
  done(range: number, result: RangeScanResult): void;
}

export type ParallelScanEnd = 'done' | 'aborted' | 'finished-early';

export class ScanBudgetError extends Error {}

/**
 * Runs the jobs at once, one thread each. Resolves when every job is done, when `finish()` of
 * the returned controls is called, or when `signal` aborts (threads still running are then
 * terminated); rejects with a ScanBudgetError after `budgetMs`, or with a thread's error.
 */
export function runParallelScan(
  jobs: RangeScanJob[],
  handlers: ParallelScanHandlers,
  opts: { signal: AbortSignal; budgetMs: number; initialAllowance: (range: number) => number },
): { ranges: RangeRun[]; finish: () => void; ended: Promise<ParallelScanEnd> } {
  const running = new Map<number, Worker>();
  const controls = jobs.map(() => new Int32Array(new SharedArrayBuffer(8)));
  let settle: (end: ParallelScanEnd) => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  let over = false;
  let finished = 0;
  const ended = new Promise<ParallelScanEnd>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  /** Ends the scan: threads still running are terminated, or, when `gently`, asked to stop and kept if they do so soon. */
  const stopAll = (gently: boolean): void => {
    over = true;
    clearTimeout(timer);
    opts.signal.removeEventListener('abort', onAbort);
    for (const [k, worker] of running) {
      if (!gently) {
        running.delete(k);
        scanThreads.discard(worker);
        continue;
      }
      const control = controls[k] as Int32Array;
      Atomics.store(control, CONTROL_STOP, 1);
      Atomics.notify(control, CONTROL_ALLOWED);
      setTimeout(() => {
        if (running.get(k) !== worker) return;
        running.delete(k);
        scanThreads.discard(worker);
      }, STOP_GRACE_MS).unref();
    }
  };
  const end = (how: ParallelScanEnd): void => {
    if (over) return;
    stopAll(how === 'finished-early');
    settle(how);
  };
  const failWith = (err: Error): void => {
    if (over) return;
    stopAll(false);
    fail(err);
  };
  const onAbort = (): void => end('aborted');
  const timer = setTimeout(() => failWith(new ScanBudgetError(`the scan ran past its time budget of ${opts.budgetMs / 1000} s`)), opts.budgetMs);
  opts.signal.addEventListener('abort', onAbort, { once: true });

  const startJob = (job: RangeScanJob, k: number, worker: Worker): void => {
    if (over) {
      scanThreads.release(worker);
      return;
    }
    const control = controls[k] as Int32Array;
    Atomics.store(control, CONTROL_ALLOWED, Math.min(opts.initialAllowance(k), 0x7fffffff));
    running.set(k, worker);
    worker.on('message', (m: ScanThreadMessage) => {
      if (m.type === 'done' || (over && m.type === 'failed')) {
        // A thread that has finished (or stopped when asked) goes back to the pool.
        if (running.get(k) !== worker) return;
        running.delete(k);
        scanThreads.release(worker);
        if (over) return;
        if (m.type === 'done') handlers.done(k, m.result);
        finished++;
        if (finished === jobs.length) end('done');
        return;
      }
      if (over) return;
      if (m.type === 'found') handlers.found(k, m.hits, m.scannedTo, m.linesTo);
      else failWith(m.status === 400 || m.status === 404 ? new ApiError(m.status, m.message) : new Error(m.message));
    });
    worker.on('error', (err) => failWith(err));
    worker.on('exit', (code) => {
      if (running.get(k) === worker) failWith(new Error(`a log scan thread exited (code ${code})`));
    });
    const request: ScanThreadRequest = { job, control: control.buffer as SharedArrayBuffer };
    worker.postMessage(request);
  };
  jobs.forEach((job, k) => {
    const got = scanThreads.acquire();
    if (got instanceof Worker) startJob(job, k, got);
    else got.then((worker) => startJob(job, k, worker), (err: unknown) => failWith(err instanceof Error ? err : new Error(String(err))));
  });
  if (opts.signal.aborted) end('aborted');
  if (jobs.length === 0) end('done');

  const ranges = controls.map<RangeRun>((control) => ({
    allow(hits) {
      Atomics.store(control, CONTROL_ALLOWED, Math.min(hits, 0x7fffffff));
      Atomics.notify(control, CONTROL_ALLOWED);
    },
    stop() {
      Atomics.store(control, CONTROL_STOP, 1);
      Atomics.notify(control, CONTROL_ALLOWED);
    },
  }));
  return { ranges, finish: () => end('finished-early'), ended };
}
