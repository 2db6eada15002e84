import { create } from 'zustand';
import type { TradingUpdate, VariantUpdate } from '../../shared/api.js';
import { MAX_SNAPSHOT_TRADES, type Snapshot } from '../../shared/snapshot.js';

/**
 * Each variant's book as the dashboard shows it: positions, resting orders, PnL, counters,
 * restore info and the recent fills. Seeded from a snapshot, then kept current by every
 * `variantUpdated` (which carries the book but only the last few fills: those are merged in).
 */
export interface VariantBook extends Omit<TradingUpdate, 'recentTrades'> {
  /** Oldest first, at most MAX_SNAPSHOT_TRADES. */
  recentTrades: TradingUpdate['recentTrades'];
  /** Wall-clock ISO time of the snapshot this describes, when known. */
  updatedAt: string | null;
}

interface TradingState {
  books: Record<string, VariantBook>;
  applyUpdate(update: VariantUpdate): void;
  applySnapshot(snapshot: Snapshot): void;
  remove(variant: string): void;
}

export type TradeRow = TradingUpdate['recentTrades'][number];

/** Fills by id, oldest first, the newest `max` kept; a fill seen again replaces the old copy. */
export function mergeTrades(known: readonly TradeRow[], incoming: readonly TradeRow[], max = MAX_SNAPSHOT_TRADES): TradeRow[] {
  const byId = new Map<string, TradeRow>();
  for (const t of known) byId.set(t.id, t);
  for (const t of incoming) byId.set(t.id, t);
  const all = [...byId.values()].sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.length > max ? all.slice(-max) : all;
}

/** True when `a` is an older wall-clock ISO time than `b`; unknown times are never older. */
function older(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isFinite(ta) && Number.isFinite(tb) && ta < tb;
}

function sameTrades(a: readonly TradeRow[], b: readonly TradeRow[]): boolean {
  return a.length === b.length && a.every((t, i) => t.id === b[i]?.id && t.time === b[i]?.time);
}

export const useTrading = create<TradingState>((set, get) => ({
  books: {},
  applyUpdate(update) {
    const trading = update.trading;
    if (!trading) return;
    const variant = update.summary.variant;
    const prev = get().books[variant];
    const updatedAt = update.summary.updatedAt;
    if (prev && older(updatedAt, prev.updatedAt)) return;
    const merged = mergeTrades(prev?.recentTrades ?? [], trading.recentTrades);
    // Keep the array identity when no fill changed, so the chart does not redraw its markers.
    const recentTrades = prev && sameTrades(prev.recentTrades, merged) ? prev.recentTrades : merged;
    set({ books: { ...get().books, [variant]: { ...trading, recentTrades, updatedAt } } });
  },
  applySnapshot(snapshot) {
    const prev = get().books[snapshot.variant];
    if (prev && older(snapshot.updatedAt, prev.updatedAt)) return;
    const merged = mergeTrades(prev?.recentTrades ?? [], snapshot.recentTrades);
    const recentTrades = prev && sameTrades(prev.recentTrades, merged) ? prev.recentTrades : merged;
    set({
      books: {
        ...get().books,
        [snapshot.variant]: {
          positions: snapshot.positions,
          orders: snapshot.orders,
          pnl: snapshot.pnl,
          counters: snapshot.counters,
          restore: snapshot.restore,
          recentTrades,
          updatedAt: snapshot.updatedAt,
        },
      },
    });
  },
  remove(variant) {
    const books = { ...get().books };
    delete books[variant];
    set({ books });
  },
}));
