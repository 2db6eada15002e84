import { SECONDS_PER_DAY, SECONDS_PER_MINUTE } from '../../shared/time.js';
import { TradingCalendar } from './tradingCalendar.js';

/**
 * The 24/7 calendar of a crypto market: every minute of every day is open, there is no
 * session and so no session end (the risk gate's close-at-session-end never fires), and the
 * trading day is the bar's UTC date. It is a TradingCalendar so the engine and the gate take it
 * unchanged; every question they ask is answered here without the futures sessions' tables.
 */
export class ContinuousCalendar extends TradingCalendar {
  constructor() {
    super([{ start: '00:00', end: '24:00' }], { nightRollHour: 24 });
  }

  override isOpen(_time: number): boolean {
    return true;
  }

  override nextOpenMinute(time: number): number {
    return (Math.floor(time / SECONDS_PER_MINUTE) + 1) * SECONDS_PER_MINUTE;
  }

  override firstOpenMinuteAtOrAfter(time: number): number {
    return Math.ceil(time / SECONDS_PER_MINUTE) * SECONDS_PER_MINUTE;
  }

  override previousOpenMinute(time: number): number {
    return (Math.floor(time / SECONDS_PER_MINUTE) - 1) * SECONDS_PER_MINUTE;
  }

  override tradingDay(time: number): string {
    return new Date(Math.floor(time / SECONDS_PER_DAY) * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10);
  }

  override sessionEndsAt(_time: number): number | null {
    return null;
  }

  override sessionStartsAt(_time: number): number | null {
    return null;
  }

  override minutesBackForTradingDays(endTime: number, days: number): number {
    if (!Number.isInteger(days) || days < 0) throw new Error(`days must be a non-negative integer, got ${days}`);
    return (Math.floor(endTime / SECONDS_PER_DAY) - days) * SECONDS_PER_DAY;
  }
}

/**
 * Crypto venues (vnpy's exchange names) and the demo's simulated crypto exchange: they trade
 * around the clock. Any other exchange keeps the futures sessions it always had.
 */
export const CRYPTO_EXCHANGES: ReadonlySet<string> = new Set(['BINANCE', 'OKX', 'BYBIT', 'BITGET', 'COINBASE', 'KRAKEN', 'HUOBI', 'GATEIO', 'KUCOIN', 'BITMEX', 'DERIBIT', 'SIMC']);

/** The calendar of an exchange: 24/7 for a crypto venue, the futures sessions otherwise. */
export function calendarForExchange(exchange: string): TradingCalendar {
  return CRYPTO_EXCHANGES.has(exchange.toUpperCase()) ? new ContinuousCalendar() : new TradingCalendar();
}
