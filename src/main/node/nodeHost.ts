import { fork, type ChildProcess, type Serializable } from 'node:child_process';
import type { z } from 'zod';
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Alert } from '../../shared/api.js';
import { WORKER_LAUNCH_ENV, WORKER_V8_FLAGS, fromWorkerSchema, type WorkerLaunch } from '../../shared/workerProtocol.js';
import { JOB_RUNNER_LAUNCH_ENV, fromJobRunnerSchema, type JobRunnerLaunch } from '../../shared/jobRunnerProtocol.js';
import type { ChildHandle, Host, JobRunnerHandle, WorkerHandle } from '../workstation/host.js';

export interface WorkerEntry {
  path: string;
  execArgv: string[];
}

/**
 * Where the worker entry is: beside the built CLI (out/main/worker.js), or, when this
 * module runs from source (tests, tsx), the TypeScript entry run through tsx.
 */
export function resolveWorkerEntry(): WorkerEntry {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith('.ts')) {
    return { path: join(here, '..', '..', 'worker', 'main.ts'), execArgv: ['--import', 'tsx'] };
  }
  for (const candidate of [join(here, 'worker.js'), join(here, '..', 'worker.js')]) {
    if (existsSync(candidate)) return { path: candidate, execArgv: [] };
  }
  throw new Error(`the worker entry (worker.js) is not beside ${here}; run \`npm run build\``);
}

/** The job-runner entry: beside the built worker (out/main/jobRunner.js), or its TypeScript source. */
export function resolveJobRunnerEntry(): WorkerEntry {
  const here = dirname(fileURLToPath(import.meta.url));
  if (import.meta.url.endsWith('.ts')) {
    return { path: join(here, '..', '..', 'worker', 'backtest', 'jobRunnerMain.ts'), execArgv: ['--import', 'tsx'] };
  }
  for (const candidate of [join(here, 'jobRunner.js'), join(here, '..', 'jobRunner.js')]) {
    if (existsSync(candidate)) return { path: candidate, execArgv: [] };
  }
  throw new Error(`the job-runner entry (jobRunner.js) is not beside ${here}; run \`npm run build\``);
}

/** The headless host: workers are plain Node child processes. */
export class NodeHost implements Host {
  readonly kind = 'node' as const;
  private readonly children = new Set<ChildProcess>();

  constructor(
    private readonly entry: WorkerEntry = resolveWorkerEntry(),
    private readonly onAlert: (alert: Alert) => void = () => undefined,
    private readonly jobRunnerEntry: () => WorkerEntry = resolveJobRunnerEntry,
  ) {}

  forkWorker(launch: WorkerLaunch): WorkerHandle {
    const entry = { ...this.entry, execArgv: [...this.entry.execArgv, ...WORKER_V8_FLAGS] };
    return this.forkChild(entry, { [WORKER_LAUNCH_ENV]: JSON.stringify(launch) }, join(launch.dataDir, 'logs', launch.variant.name), fromWorkerSchema);
  }

  forkJobRunner(launch: JobRunnerLaunch): JobRunnerHandle {
    return this.forkChild(this.jobRunnerEntry(), { [JOB_RUNNER_LAUNCH_ENV]: JSON.stringify(launch) }, join(launch.dataDir, 'logs', 'backtests'), fromJobRunnerSchema);
  }

  private forkChild<In, Out>(entry: WorkerEntry, env: Record<string, string>, logDir: string, schema: z.ZodType<Out>): ChildHandle<In, Out> {
    mkdirSync(logDir, { recursive: true });
    const child = fork(entry.path, [], {
      execArgv: entry.execArgv,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    this.children.add(child);
    // Whatever a child prints (a stack trace as it dies) is kept beside its log.
    const stderr = createWriteStream(join(logDir, 'stderr.log'), { flags: 'a' });
    child.stdout?.pipe(stderr, { end: false });
    child.stderr?.pipe(stderr, { end: false });
    child.once('exit', () => {
      this.children.delete(child);
      stderr.end();
    });
    return {
      pid: child.pid ?? null,
      send: (m) => {
        if (child.connected) child.send(m as Serializable);
      },
      kill: (signal) => {
        child.kill(signal ?? 'SIGTERM');
      },
      onMessage: (listener) =>
        child.on('message', (raw) => {
          const parsed = schema.safeParse(raw);
          if (parsed.success) listener(parsed.data);
        }),
      onExit: (listener) => child.once('exit', (code, signal) => listener(code, signal)),
    };
  }

  notify(alert: Alert): void {
    this.onAlert(alert);
  }

  /** Last resort on shutdown: no worker outlives the host. */
  killAll(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}
