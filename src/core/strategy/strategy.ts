import type { OhlcvBar } from '../../shared/bar.js';
import type { RiskRefusalReason } from '../../shared/risk.js';
import type { TradingParams } from '../../shared/strategyConfig.js';
import { strategyDisplaySchema, type StrategyDisplay, type StrategyDisplayInput } from '../../shared/strategyDisplay.js';
import type { Bracket, Fill, Order, OrderSide, OrderType, Position, PositionDirection } from '../broker/paperBroker.js';
import type { SignalParams } from '../../shared/signalParams.js';
import type { WindowAnalysis } from '../signalEngine.js';
import { MIN_WINDOW_BARS_TO_TRADE } from './warmUp.js';

/**
 * The seam between a strategy and everything else (nautilus_trader's split: the Strategy
 * decides, the RiskGate permits, the PaperBroker executes; each is a noun with one owner).
 *
 * A strategy sees each instrument's 1-minute bars in time order (the bars of one minute
 * together, in vtSymbol order), the closed window bars with their analysis, its own fills and
 * the trading day's roll. It never touches the broker: it hands order *intents* to
 * `ctx.submit`, which runs them through the risk gate at once and answers whether the intent
 * became an order or why not — so a strategy can tell "refused by a limit" (the signal is used
 * up) from "suppressed by a freeze" (try again on the next bar). TradingEngine drives it; the
 * worker, restore replay and a backtest all drive the TradingEngine the same way.
 */

export type TradingMode = 'live' | 'restoring' | 'degraded' | 'halted';
export type StrategyLogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
export type LogContextValue = string | number | boolean | null;

export interface StrategyLogEntry {
  level: StrategyLogLevel;
  message: string;
  context: Record<string, LogContextValue>;
}

/** One instrument's 1-minute bar. */
export interface InstrumentBar {
  vtSymbol: string;
  bar: OhlcvBar;
}

/** An alert a strategy raises through the worker (DOMAIN.md "Alerts"). */
export interface StrategyAlert {
  level: 'INFO' | 'WARNING' | 'ERROR';
  title: string;
  message: string;
  /** Repeats of one key within the quiet period are dropped by the AlertCenter. */
  key: string;
}

/** What a strategy asks for. `tag` names the rule (kept on the order and its trade); `detail` explains it. */
export interface OrderIntent {
  vtSymbol: string;
  side: OrderSide;
  offset: 'open' | 'close';
  type: Extract<OrderType, 'market' | 'limit'>;
  price?: number | null;
  volume: number;
  tag: string;
  detail: string;
  bracket?: Bracket | null;
}

export type IntentOutcome =
  | { passed: true; order: Order }
  /** `suppressed`: refused by a freeze (halted, restoring, degraded), not by a limit. */
  | { passed: false; reason: RiskRefusalReason; suppressed: boolean; detail: string };

export type DecisionOutcome = 'sent' | 'suppressed' | 'refused';

/** Every intent with its outcome: the decision log of the variant. */
export interface Decision {
  /** Decision time: the last 1-minute bar seen for the vtSymbol. */
  time: number;
  vtSymbol: string;
  kind: 'open' | 'close';
  direction: PositionDirection;
  /** The intent's tag: the strategy's rule, or the engine's (sessionEnd, flatten, roll). */
  reason: string;
  outcome: DecisionOutcome;
  detail: string;
  orderId: string | null;
  /** The gate's reason when refused or suppressed. */
  refusal: RiskRefusalReason | null;
}

/** What the engine tells a strategy and takes from it during one call. */
export interface StrategyContext {
  /** The minute being processed (local-as-UTC seconds). */
  readonly time: number;
  readonly mode: TradingMode;
  readonly tradingDay: string | null;
  positions(): readonly Position[];
  position(vtSymbol: string, direction: PositionDirection): Position | null;
  pendingOrders(): readonly Order[];
  /** Position volume not already being closed by a pending (non-protective) close order. */
  closeable(vtSymbol: string, direction: PositionDirection): number;
  /** Whether the vtSymbol is its product's active contract (only those are opened). */
  isActive(vtSymbol: string): boolean;
  submit(intent: OrderIntent): IntentOutcome;
  /** Cancels one of the variant's pending orders (a grid taking its resting orders down); null when it is not pending. */
  cancel(orderId: string, reason: string): Order | null;
  /** An alert the worker raises (e.g. a grid leaving its band), keyed so a quiet period applies. */
  alert(alert: StrategyAlert): void;
  log(level: StrategyLogLevel, message: string, context?: Record<string, LogContextValue>): void;
}

/** A strategy's own state: versioned, bounded (no bars, no series), JSON. */
export interface StrategyStateEnvelope {
  version: number;
  data: unknown;
}

export interface Strategy {
  /**
   * True when `onMinuteBars` does nothing (the strategy decides on window bars only): the engine
   * then skips the call, and a columnar backtest builds no bar object for a quiet minute.
   */
  readonly ignoresMinuteBars?: boolean;
  /** The bars of one minute, after the broker filled on them and before their windows close. */
  onMinuteBars(bars: readonly InstrumentBar[], ctx: StrategyContext): void;
  /** A closed window bar, right after the minute bar that closed it. */
  onWindowBar(vtSymbol: string, analysis: WindowAnalysis, ctx: StrategyContext): void;
  onFill(fill: Fill, ctx: StrategyContext): void;
  onTradingDayRoll(tradingDay: string, ctx: StrategyContext): void;
  /**
   * The variant stops gracefully (shutdown, stopVariant). A strategy that places its resting
   * orders again from its state (a grid) cancels them here, so nothing rests while no one watches;
   * one that cannot (MACD-TD's brackets) leaves them, and they are kept in the state.
   */
  onStop?(ctx: StrategyContext): void;
  toState(): StrategyStateEnvelope;
}

/**
 * A strategy as the registry knows it: parameters (parsed by a zod schema declared in
 * src/shared), how to build and restore it (with migrations of older state versions), the
 * analysis it needs and what it shows.
 */
export interface StrategyDefinition<P extends TradingParams> {
  name: string;
  /** Parses and fills defaults; throws a message naming each wrong field. */
  parseParams(input: unknown, where: string): P;
  stateVersion: number;
  /** Each entry lifts a state's data of version N to N + 1. */
  migrations?: Readonly<Record<number, (old: unknown) => unknown>>;
  create(params: P): Strategy;
  /** `data` is already migrated to stateVersion. */
  restore(data: unknown, params: P): Strategy;
  /** The analysis pipeline's periods (MACD, EMA, lookbacks); defaults when absent. */
  signalParams?(params: P): Partial<SignalParams>;
  /**
   * Window bars every instrument needs before the strategy may trade (its indicators settle);
   * MIN_WINDOW_BARS_TO_TRADE when absent. A strategy that reads no indicator (a grid) says 0.
   */
  windowBarsToTrade?(params: P): number;
  display(params: P): StrategyDisplayInput;
}

/** A definition bound to one variant's parsed parameters, with the type parameter erased. */
export interface BoundStrategy {
  readonly name: string;
  readonly params: TradingParams;
  readonly stateVersion: number;
  readonly signalParams: Partial<SignalParams>;
  readonly windowBarsToTrade: number;
  readonly display: StrategyDisplay;
  create(): Strategy;
  restore(state: StrategyStateEnvelope, where: string): Strategy;
}

export function bindStrategy<P extends TradingParams>(def: StrategyDefinition<P>, input: unknown, where: string): BoundStrategy {
  const params = def.parseParams(input, where);
  return {
    name: def.name,
    params,
    stateVersion: def.stateVersion,
    signalParams: def.signalParams?.(params) ?? {},
    windowBarsToTrade: def.windowBarsToTrade?.(params) ?? MIN_WINDOW_BARS_TO_TRADE,
    display: strategyDisplaySchema.parse(def.display(params)),
    create: () => def.create(params),
    restore(state, at) {
      if (typeof state !== 'object' || state === null || typeof state.version !== 'number') throw new Error(`${at}: expected {version, data}`);
      let data = state.data;
      for (let v = state.version; v < def.stateVersion; v++) {
        const migrate = def.migrations?.[v];
        if (migrate === undefined) throw new Error(`${at}: ${def.name} state version ${String(state.version)} cannot be migrated to ${String(def.stateVersion)}`);
        data = migrate(data);
      }
      if (state.version > def.stateVersion) throw new Error(`${at}: ${def.name} state version ${String(state.version)} is newer than this Kestrel (${String(def.stateVersion)})`);
      return def.restore(data, params);
    },
  };
}
