/**
 * A deliberately simple third strategy, defined only in the tests: the proof that the seam is
 * real. Moving-average cross on window closes: long while the fast simple average is above the
 * slow one, short while below; each cross closes the old side and opens the new one. Nothing
 * outside this file and the registry knows it exists; the worker loads it from
 * KESTREL_STRATEGY_MODULES.
 */
import { z } from 'zod';
import type { RegisteredDefinition } from '../../src/core/strategy/registry.js';
import type { Strategy, StrategyContext, StrategyStateEnvelope } from '../../src/core/strategy/strategy.js';
import type { WindowAnalysis } from '../../src/core/signalEngine.js';
import { parseWith, tradingParamsSchema } from '../../src/shared/strategyConfig.js';

export const maCrossParamsSchema = tradingParamsSchema.extend({
  fast: z.number().int().min(1).default(5),
  slow: z.number().int().min(2).default(20),
  volume: z.number().int().positive().default(1),
});
export type MaCrossParams = z.infer<typeof maCrossParamsSchema>;

interface Track {
  /** The last `slow` window closes, oldest first. */
  closes: number[];
  /** +1 fast above slow, −1 below, 0 not known yet. */
  side: number;
}

class MaCross implements Strategy {
  readonly tracks = new Map<string, Track>();
  constructor(private readonly p: MaCrossParams) {}

  onMinuteBars(): void {}
  onFill(): void {}
  onTradingDayRoll(): void {}

  onWindowBar(vtSymbol: string, a: WindowAnalysis, ctx: StrategyContext): void {
    let t = this.tracks.get(vtSymbol);
    if (t === undefined) {
      t = { closes: [], side: 0 };
      this.tracks.set(vtSymbol, t);
    }
    t.closes.push(a.bar.close);
    if (t.closes.length > this.p.slow) t.closes.shift();
    if (t.closes.length < this.p.slow) return;
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const diff = mean(t.closes.slice(-this.p.fast)) - mean(t.closes);
    const side = diff > 0 ? 1 : diff < 0 ? -1 : t.side;
    if (side === t.side || side === 0) return;
    const crossedUp = side > 0;
    const previous = t.side;
    t.side = side;
    if (previous === 0) return; // the first known side is not a cross
    const closing = crossedUp ? 'short' : 'long';
    const lots = ctx.closeable(vtSymbol, closing);
    if (lots > 0) ctx.submit({ vtSymbol, side: crossedUp ? 'buy' : 'sell', offset: 'close', type: 'market', volume: lots, tag: 'maCross', detail: `MA${String(this.p.fast)} crossed ${crossedUp ? 'above' : 'below'} MA${String(this.p.slow)}` });
    if (ctx.isActive(vtSymbol)) {
      ctx.submit({ vtSymbol, side: crossedUp ? 'buy' : 'sell', offset: 'open', type: 'market', volume: this.p.volume, tag: 'maCross', detail: `MA${String(this.p.fast)} crossed ${crossedUp ? 'above' : 'below'} MA${String(this.p.slow)}` });
    }
  }

  toState(): StrategyStateEnvelope {
    const tracks: Record<string, Track> = {};
    for (const k of [...this.tracks.keys()].sort()) {
      const t = this.tracks.get(k);
      if (t) tracks[k] = { closes: [...t.closes], side: t.side };
    }
    return { version: 2, data: { tracks } };
  }
}

const definition: RegisteredDefinition<MaCrossParams> = {
  name: 'ma-cross',
  paramsSchema: maCrossParamsSchema,
  parseParams: (input, where) => parseWith(maCrossParamsSchema, input, where),
  stateVersion: 2,
  // Version 1 kept `above: boolean`; the migration shows the seam's path for old states.
  migrations: {
    1: (old) => {
      const tracks = (old as { tracks: Record<string, { closes: number[]; above: boolean | null }> }).tracks;
      return { tracks: Object.fromEntries(Object.entries(tracks).map(([k, t]) => [k, { closes: t.closes, side: t.above === null ? 0 : t.above ? 1 : -1 }])) };
    },
  },
  create: (p) => new MaCross(p),
  restore: (data, p) => {
    const s = new MaCross(p);
    const tracks = (data as { tracks: Record<string, Track> }).tracks;
    for (const [k, t] of Object.entries(tracks)) s.tracks.set(k, { closes: [...t.closes], side: t.side });
    return s;
  },
  display: () => ({ lines: [], panes: [], marks: [], badges: [] }),
};

export default definition;
