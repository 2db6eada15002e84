import { z } from 'zod';

/**
 * The trade record, declared once. A fill is what the paper broker produces; every other trade
 * row is this record plus what its place adds: the journal adds the variant and the trading day,
 * the API the exchange-time text, the snapshot tolerates publishers that omit pnl or
 * commission, a backtest keeps the fill as it is. Rows are derived with `extend`, never
 * restated, so a field added here reaches every one of them.
 */

export const tradeSideSchema = z.enum(['buy', 'sell']);
export type TradeSide = z.infer<typeof tradeSideSchema>;
export const tradeOffsetSchema = z.enum(['open', 'close']);
export type TradeOffset = z.infer<typeof tradeOffsetSchema>;

export const tradeFillSchema = z.object({
  id: z.string(),
  vtSymbol: z.string(),
  side: tradeSideSchema,
  offset: tradeOffsetSchema,
  price: z.number(),
  volume: z.number(),
  /** Bar time of the fill, local-as-UTC seconds. */
  time: z.number(),
  commission: z.number(),
  /** Net realised PnL of a closing fill's lots; null for an opening one. */
  pnl: z.number().nullable(),
});
export type TradeFill = z.infer<typeof tradeFillSchema>;

/** A fill as the journal keeps it (table `trades`): one row per fill, never updated. */
export const journalTradeSchema = tradeFillSchema.extend({
  variant: z.string(),
  /** The trading day the fill belongs to, 'YYYY-MM-DD' (a night session's fill is the next day's). */
  tradingDay: z.string(),
});
export type JournalTrade = z.infer<typeof journalTradeSchema>;

/**
 * The fill's own fields out of any richer row (the broker's row with its order id and tag, a
 * journal row): the one conversion, used by the journal and by backtests. The return type makes
 * the compiler name any field of the record left out here.
 */
export function tradeFillOf(row: TradeFill): TradeFill {
  const { id, vtSymbol, side, offset, price, volume, time, commission, pnl } = row;
  return { id, vtSymbol, side, offset, price, volume, time, commission, pnl };
}

/** A fill as journalled by a variant on a trading day. */
export function journalTradeOf(row: TradeFill, variant: string, tradingDay: string): JournalTrade {
  return { ...tradeFillOf(row), variant, tradingDay };
}
