import type { BacktestProgress, BacktestStatus } from '../../shared/backtest.js';
import { formatDatetime } from '../../shared/time.js';
import type { BacktestCheckpoint } from './runBacktest.js';

/** A checkpoint as the contract's progress event carries it. */
export function backtestProgressOf(id: string, status: BacktestStatus, at: BacktestCheckpoint & { barsPerSecond: number }): BacktestProgress {
  return {
    id,
    status,
    percent: at.barsTotal > 0 ? Math.min(100, (at.barsDone / at.barsTotal) * 100) : 100,
    barsDone: at.barsDone,
    barsTotal: at.barsTotal,
    currentTime: at.time === null ? null : formatDatetime(at.time),
    trades: at.trades,
    barsPerSecond: at.barsPerSecond,
  };
}
