import type { BacktestCheckpoint, BacktestRun } from '../../core/backtest/runBacktest.js';
import type { SharedBars } from './barCache.js';
import type { BacktestJob } from '../../shared/backtest.js';

/**
 * Messages between the job pool and its worker threads. The control word is one Int32 in a
 * SharedArrayBuffer per running job, so pause and cancel reach a thread that is busy computing
 * (a message would wait until the job ended).
 */
export const CONTROL_RUN = 0;
export const CONTROL_PAUSE = 1;
export const CONTROL_CANCEL = 2;

export interface RunJobMessage {
  type: 'run';
  id: string;
  job: BacktestJob;
  bars: SharedBars[];
  control: SharedArrayBuffer;
  /** Minimum milliseconds between two progress messages. */
  progressEveryMs: number;
}

export interface JobProgress extends BacktestCheckpoint {
  barsPerSecond: number;
  /** The thread is waiting at this checkpoint (paused); no bar moves until resumed. */
  paused: boolean;
}

export type FromThread =
  | ({ type: 'progress'; id: string } & JobProgress)
  | { type: 'done'; id: string; run: BacktestRun; durationMs: number }
  | { type: 'failed'; id: string; error: string };
