/**
 * Bars as Kestrel passes them between layers.
 *
 * `time` is the bar's start as seconds since 1970-01-01 of the exchange's *naive local*
 * clock read as if it were UTC ("local-as-UTC"). vnpy stores naive local datetimes; keeping
 * them naive means no time-zone arithmetic anywhere in the trading logic, and
 * lightweight-charts (which renders UTC) shows exchange time without conversion.
 */
export type BarInterval = '1m' | '1h' | 'd' | 'w' | 'tick';

export interface OhlcvBar {
  /** Start of the minute/window, local-as-UTC seconds. */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  openInterest: number;
}

/** A bar of the bar store: OHLCV plus where it belongs. */
export interface StoredBar extends OhlcvBar {
  symbol: string;
  exchange: string;
  interval: BarInterval;
}

export interface BarOverview {
  symbol: string;
  exchange: string;
  interval: BarInterval;
  count: number;
  /** 'YYYY-MM-DD HH:MM:SS' naive local */
  start: string;
  end: string;
}

export function vtSymbolOf(symbol: string, exchange: string): string {
  return `${symbol}.${exchange}`;
}

/** Splits `rb2501.SHFE` at the last dot; symbols may not contain the exchange separator. */
export function parseVtSymbol(vtSymbol: string): { symbol: string; exchange: string } {
  const dot = vtSymbol.lastIndexOf('.');
  if (dot <= 0 || dot === vtSymbol.length - 1) {
    throw new Error(`vt symbol "${vtSymbol}" is not of the form SYMBOL.EXCHANGE`);
  }
  return { symbol: vtSymbol.slice(0, dot), exchange: vtSymbol.slice(dot + 1) };
}

/**
 * The product of a symbol or vtSymbol: its leading letters (`rb2501.SHFE` → `rb`, `i9999` → `i`,
 * `SR501` → `SR`). A symbol without leading letters (a stock code) is its own product.
 */
export function productOf(symbolOrVtSymbol: string): string {
  // Asked on every intent, position and order the engine looks at: remembered, not re-matched.
  const known = products.get(symbolOrVtSymbol);
  if (known !== undefined) return known;
  const dot = symbolOrVtSymbol.lastIndexOf('.');
  const symbol = dot > 0 ? symbolOrVtSymbol.slice(0, dot) : symbolOrVtSymbol;
  const m = /^[A-Za-z]+/.exec(symbol);
  const product = m ? m[0] : symbol;
  if (products.size >= PRODUCTS_REMEMBERED) products.clear();
  products.set(symbolOrVtSymbol, product);
  return product;
}

/** Bounds the memo: a process sees a few hundred contracts at most; past this it starts over. */
const PRODUCTS_REMEMBERED = 4096;
const products = new Map<string, string>();
