import type { Alert } from '../../shared/api.js';
import type { FromJobRunner, JobRunnerLaunch, ToJobRunner } from '../../shared/jobRunnerProtocol.js';
import type { FromWorker, ToWorker, WorkerLaunch } from '../../shared/workerProtocol.js';

/** A running child process (a strategy worker, the job runner), whichever host started it. */
export interface ChildHandle<In, Out> {
  readonly pid: number | null;
  send(message: In): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(listener: (message: Out) => void): void;
  /** Called once when the process has gone, for whatever reason. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
}

export type WorkerHandle = ChildHandle<ToWorker, FromWorker>;
export type JobRunnerHandle = ChildHandle<ToJobRunner, FromJobRunner>;

/**
 * What the workstation needs from its environment. Electron and plain Node each provide
 * one; everything else the workstation does is the same code in both.
 */
export interface Host {
  readonly kind: 'electron' | 'node';
  forkWorker(launch: WorkerLaunch): WorkerHandle;
  /** The backtest job runner: a child process headless, a utility process on the desktop. */
  forkJobRunner(launch: JobRunnerLaunch): JobRunnerHandle;
  /** Desktop notification + tray on Electron; the console/log under Node. */
  notify(alert: Alert): void;
  /** Last resort of a shutdown that overran its bound: SIGKILL every worker still alive. */
  killAll?(): void;
}
