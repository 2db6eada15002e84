import { utilityProcess, Notification, type UtilityProcess } from 'electron';
import { WORKER_LAUNCH_ENV, WORKER_V8_FLAGS, fromWorkerSchema, type WorkerLaunch } from '../../shared/workerProtocol.js';
import type { Alert } from '../../shared/api.js';
import type { z } from 'zod';
import { JOB_RUNNER_LAUNCH_ENV, fromJobRunnerSchema, type JobRunnerLaunch } from '../../shared/jobRunnerProtocol.js';
import type { ChildHandle, Host, JobRunnerHandle, WorkerHandle } from '../workstation/host.js';

/** The desktop host: workers are Electron utility processes; alerts become notifications. */
export class ElectronHost implements Host {
  readonly kind = 'electron' as const;
  private readonly children = new Set<UtilityProcess>();

  constructor(
    private readonly workerEntry: string,
    private readonly onAlert: (alert: Alert) => void,
    /** out/main/jobRunner.js, beside the worker entry. */
    private readonly jobRunnerEntry: string = workerEntry.replace(/worker\.js$/, 'jobRunner.js'),
  ) {}

  forkWorker(launch: WorkerLaunch): WorkerHandle {
    return this.forkChild(this.workerEntry, `kestrel-${launch.variant.name}`, { [WORKER_LAUNCH_ENV]: JSON.stringify(launch) }, fromWorkerSchema, WORKER_V8_FLAGS);
  }

  forkJobRunner(launch: JobRunnerLaunch): JobRunnerHandle {
    return this.forkChild(this.jobRunnerEntry, 'kestrel-backtests', { [JOB_RUNNER_LAUNCH_ENV]: JSON.stringify(launch) }, fromJobRunnerSchema);
  }

  private forkChild<In, Out>(entry: string, serviceName: string, env: Record<string, string>, schema: z.ZodType<Out>, execArgv: readonly string[] = []): ChildHandle<In, Out> {
    const child = utilityProcess.fork(entry, [], {
      serviceName,
      execArgv: [...execArgv],
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    this.children.add(child);
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    child.once('exit', (code) => {
      exited = true;
      this.children.delete(child);
      for (const l of exitListeners) l(code, null);
    });
    return {
      get pid() {
        return child.pid ?? null;
      },
      send: (m) => {
        if (!exited) child.postMessage(m);
      },
      kill: () => {
        child.kill();
      },
      onMessage: (listener) =>
        child.on('message', (raw: unknown) => {
          const parsed = schema.safeParse(raw);
          if (parsed.success) listener(parsed.data);
        }),
      onExit: (listener) => exitListeners.push(listener),
    };
  }

  notify(alert: Alert): void {
    if (Notification.isSupported()) {
      new Notification({ title: `Kestrel ${alert.level}: ${alert.title}`, body: alert.message }).show();
    }
    this.onAlert(alert);
  }

  killAll(): void {
    for (const child of this.children) child.kill();
  }
}
