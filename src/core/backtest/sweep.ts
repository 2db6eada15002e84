import { LOWER_IS_BETTER, RANKED_STATISTICS, type BacktestStatistics, type SweepAggregate, type SweepAxis, type SweepConfig } from '../../shared/backtest.js';
import { Prng } from '../market/prng.js';

/**
 * A sweep's points (grid or seeded random sample) and the aggregation of its runs
 * (DOMAIN.md "Backtests": aggregates skip non-finite values; none finite → null).
 */

export type ParamValue = number | string | boolean;
/** Dotted parameter path → the value of this point. */
export type SweepPoint = Record<string, ParamValue>;

export function axisValues(axis: SweepAxis): ParamValue[] {
  if ('values' in axis) return axis.values;
  const out: number[] = [];
  const n = Math.floor((axis.max - axis.min) / axis.step + 1e-9);
  // Computed from the index, not summed, so that 0.1 steps do not drift.
  for (let i = 0; i <= n; i++) out.push(Number((axis.min + i * axis.step).toPrecision(12)));
  return out;
}

/** Every point of the sweep, in a fixed order (parameters by name, first varying slowest). */
export function sweepPoints(sweep: Pick<SweepConfig, 'parameters' | 'mode' | 'samples' | 'seed'>): SweepPoint[] {
  const names = Object.keys(sweep.parameters).sort();
  const axes = names.map((n) => axisValues(sweep.parameters[n] as SweepAxis));
  const gridSize = axes.reduce((n, a) => n * a.length, 1);
  const pointAt = (index: number): SweepPoint => {
    const point: SweepPoint = {};
    let rest = index;
    for (let k = names.length - 1; k >= 0; k--) {
      const axis = axes[k] as ParamValue[];
      point[names[k] as string] = axis[rest % axis.length] as ParamValue;
      rest = Math.floor(rest / axis.length);
    }
    return point;
  };
  if (sweep.mode === 'grid') {
    if (gridSize > 100_000) throw new Error(`the grid has ${gridSize} points; at most 100,000 (use mode "random" with samples)`);
    return Array.from({ length: gridSize }, (_, i) => pointAt(i));
  }
  const samples = Math.min(sweep.samples ?? 0, gridSize);
  const prng = new Prng(sweep.seed);
  const chosen = new Set<number>();
  // Without repetition: a point drawn twice would only cost time.
  while (chosen.size < samples) chosen.add(Math.floor(prng.next() * gridSize));
  return [...chosen].map(pointAt);
}

/** `params` with each dotted path of `point` set (objects on the way created). */
export function applyPoint(params: Record<string, unknown>, point: SweepPoint): Record<string, unknown> {
  const out = structuredClone(params);
  for (const [path, value] of Object.entries(point)) {
    const keys = path.split('.');
    let node: Record<string, unknown> = out;
    for (const key of keys.slice(0, -1)) {
      const next = node[key];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[keys[keys.length - 1] as string] = value;
  }
  return out;
}

export interface SweepRunOutcome {
  runId: string;
  point: SweepPoint;
  status: 'completed' | 'cancelled' | 'failed';
  statistics: BacktestStatistics | null;
}

export function aggregateSweep(sweepId: string, runs: readonly SweepRunOutcome[]): SweepAggregate {
  const best: SweepAggregate['best'] = {};
  const means: SweepAggregate['means'] = {};
  for (const stat of RANKED_STATISTICS) {
    let sum = 0;
    let n = 0;
    let top: { runId: string; params: Record<string, unknown>; value: number } | null = null;
    for (const run of runs) {
      const v = run.statistics?.[stat];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      sum += v;
      n++;
      const better = top === null || (LOWER_IS_BETTER.has(stat) ? v < top.value : v > top.value);
      if (better) top = { runId: run.runId, params: { ...run.point }, value: v };
    }
    means[stat] = n > 0 ? sum / n : null;
    best[stat] = top;
  }
  const count = (s: SweepRunOutcome['status']): number => runs.filter((r) => r.status === s).length;
  return {
    sweepId,
    counts: { total: runs.length, completed: count('completed'), failed: count('failed'), cancelled: count('cancelled') },
    best,
    means,
  };
}
