/**
 * Formatting of the Trades screen's numbers. Formatting only: every value comes from the API
 * as it is. Money has two decimals and thousands separators; a ratio is shown in %.
 */

const moneyFormats = new Map<number, Intl.NumberFormat>();

function moneyFormat(decimals: number): Intl.NumberFormat {
  let f = moneyFormats.get(decimals);
  if (!f) {
    f = new Intl.NumberFormat('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: true });
    moneyFormats.set(decimals, f);
  }
  return f;
}

function isNumber(value: number | null | undefined): value is number {
  return value !== null && value !== undefined && Number.isFinite(value);
}

/** 1234.5 → "1,234.50"; null → "—". A rounded −0.00 is printed as 0.00. */
export function formatMoney(value: number | null | undefined, decimals = 2): string {
  if (!isNumber(value)) return '—';
  const text = moneyFormat(decimals).format(value);
  return /^-0(\.0+)?$/.test(text) ? text.slice(1) : text;
}

/** Money with an explicit "+" on gains: the sign is the first thing a trader reads in a PnL column. */
export function formatPnl(value: number | null | undefined, decimals = 2): string {
  const text = formatMoney(value, decimals);
  return isNumber(value) && value > 0 && text !== moneyFormat(decimals).format(0) ? `+${text}` : text;
}

/** A 0..1 ratio as a percentage: 0.5312 → "53.1%". */
export function formatRatio(value: number | null | undefined, decimals = 1): string {
  if (!isNumber(value)) return '—';
  return `${(value * 100).toFixed(decimals)}%`;
}

/** Sharpe is null when it is not meaningful (fewer than two periods, zero variance). */
export function formatSharpe(value: number | null | undefined): string {
  return isNumber(value) ? value.toFixed(2) : '—';
}

/** Lots: whole numbers as such, fractional ones (crypto, shares) with up to 4 decimals. */
export function formatQuantity(value: number | null | undefined): string {
  if (!isNumber(value)) return '—';
  return Number.isInteger(value) ? moneyFormat(0).format(value) : String(Number(value.toFixed(4)));
}

export function formatCount(value: number | null | undefined): string {
  return isNumber(value) ? moneyFormat(0).format(value) : '—';
}

/** The colour class of a result: gains in the rise colour, losses in the fall colour (theme's convention). */
export function pnlTone(value: number | null | undefined): '' | 'up' | 'down' {
  if (!isNumber(value) || value === 0) return '';
  return value > 0 ? 'up' : 'down';
}
