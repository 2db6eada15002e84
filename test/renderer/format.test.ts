import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatBarTime,
  formatDuration,
  formatExchangeText,
  formatSigned,
  pricePrecisionOf,
} from '../../src/renderer/lib/format.js';

describe('formatDuration / formatAge', () => {
  it('reads like a trader would say it', () => {
    expect(formatDuration(400)).toBe('now');
    expect(formatDuration(2_000)).toBe('2 s');
    expect(formatDuration(185_000)).toBe('3 m 05 s');
    expect(formatDuration((2 * 3600 + 10 * 60) * 1000)).toBe('2 h 10 m');
    expect(formatDuration((3 * 24 + 4) * 3600 * 1000)).toBe('3 d 4 h');
  });

  it('ages a wall-clock ISO time against now', () => {
    const now = Date.parse('2026-01-05T09:00:10Z');
    expect(formatAge('2026-01-05T09:00:08Z', now)).toBe('2 s ago');
    expect(formatAge('2026-01-05T09:00:10Z', now)).toBe('just now');
    expect(formatAge(null, now)).toBe('—');
    expect(formatAge('not a time', now)).toBe('—');
  });
});

describe('exchange time', () => {
  it('prints local-as-UTC seconds as the exchange clock, without the machine zone', () => {
    expect(formatBarTime(Date.UTC(2026, 0, 5, 21, 15) / 1000)).toBe('2026-01-05 21:15');
    expect(formatExchangeText('2026-01-05 21:15:00')).toBe('2026-01-05 21:15');
    expect(formatExchangeText('2026-01-05 21:15:30')).toBe('2026-01-05 21:15:30');
  });
});

describe('pricePrecisionOf', () => {
  it('shows exactly the decimals the tick needs', () => {
    expect(pricePrecisionOf([4205, 4189, 3990])).toBe(0);
    expect(pricePrecisionOf([712.5, 713, 711.5])).toBe(1);
    expect(pricePrecisionOf([3.02, 3.04, 3.1])).toBe(2);
    expect(pricePrecisionOf([0.123456789])).toBe(4);
    expect(pricePrecisionOf([])).toBe(0);
  });

  it('signs oscillator values', () => {
    expect(formatSigned(1.234, 2)).toBe('+1.23');
    expect(formatSigned(-0.5, 1)).toBe('-0.5');
    expect(formatSigned(null, 2)).toBe('—');
  });
});
