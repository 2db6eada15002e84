/**
 * A test strategy that holds a position so that a contract roll has one to move: it opens
 * `volume` lots long on each product's active contract once (the first bar it may trade) and
 * never closes. The worker loads it from KESTREL_STRATEGY_MODULES, a test in-process registers it.
 */
import { z } from 'zod';
import { productOf } from '../../src/shared/bar.js';
import type { RegisteredDefinition } from '../../src/core/strategy/registry.js';
import type { InstrumentBar, Strategy, StrategyContext, StrategyStateEnvelope } from '../../src/core/strategy/strategy.js';
import { parseWith, tradingParamsSchema } from '../../src/shared/strategyConfig.js';

export const holdLongParamsSchema = tradingParamsSchema.extend({
  volume: z.number().int().positive().default(2),
});
export type HoldLongParams = z.infer<typeof holdLongParamsSchema>;

class HoldLong implements Strategy {
  /** Products it has opened on: it opens once per product, so a roll's `close` leaves it flat. */
  readonly opened = new Set<string>();
  constructor(private readonly p: HoldLongParams) {}

  onMinuteBars(bars: readonly InstrumentBar[], ctx: StrategyContext): void {
    for (const { vtSymbol } of bars) {
      const product = productOf(vtSymbol);
      if (this.opened.has(product) || !ctx.isActive(vtSymbol)) continue;
      const outcome = ctx.submit({ vtSymbol, side: 'buy', offset: 'open', type: 'market', volume: this.p.volume, tag: 'hold', detail: 'hold long' });
      if (outcome.passed) this.opened.add(product);
    }
  }
  onWindowBar(): void {}
  onFill(): void {}
  onTradingDayRoll(): void {}

  toState(): StrategyStateEnvelope {
    return { version: 1, data: { opened: [...this.opened].sort() } };
  }
}

const definition: RegisteredDefinition<HoldLongParams> = {
  name: 'hold-long',
  paramsSchema: holdLongParamsSchema,
  parseParams: (input, where) => parseWith(holdLongParamsSchema, input, where),
  stateVersion: 1,
  create: (p) => new HoldLong(p),
  restore: (data, p) => {
    const s = new HoldLong(p);
    for (const product of (data as { opened: string[] }).opened) s.opened.add(product);
    return s;
  },
  display: () => ({ lines: [], panes: [], marks: [], badges: [] }),
};

export default definition;
