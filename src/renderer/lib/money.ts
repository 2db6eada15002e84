/**
 * Money as a trader reads it: signed, two decimals, thousands grouped ("+12,345.60", "−80.00"),
 * and its colour by sign (rising colour for a gain, whatever the up/down convention maps it to).
 */
const grouped = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

export function formatMoney(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  // -0.004 rounds to "-0.00": show it as zero.
  const rounded = Math.round(value * 100) / 100;
  if (rounded === 0) return '0.00';
  const text = grouped.format(Math.abs(rounded));
  return rounded > 0 ? `+${text}` : `−${text}`;
}

export function moneyTone(value: number | null | undefined): '' | 'up' | 'down' {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  const rounded = Math.round(value * 100) / 100;
  return rounded > 0 ? 'up' : rounded < 0 ? 'down' : '';
}
