import type { Alert } from '../../shared/api.js';
import type { FromWorker, ToWorker, WorkerLaunch } from '../../shared/workerProtocol.js';

/** A running worker process, whichever host started it. */
export interface WorkerHandle {
  readonly pid: number | null;
  send(message: ToWorker): void;
  kill(signal?: NodeJS.Signals): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once when the process has gone, for whatever reason. */
  onExit(listener: (code: number | null, signal: string | null) => void): void;
}

/**
 * What the workstation needs from its environment. Electron and plain Node each provide
 * one; everything else the workstation does is the same code in both.
 */
export interface Host {
  readonly kind: 'electron' | 'node';
  forkWorker(launch: WorkerLaunch): WorkerHandle;
  /** Desktop notification + tray on Electron; the console/log under Node. */
  notify(alert: Alert): void;
  /** Last resort of a shutdown that overran its bound: SIGKILL every worker still alive. */
  killAll?(): void;
}
