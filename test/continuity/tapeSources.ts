import type { OhlcvBar, StoredBar } from '../../src/shared/bar.js';
import { Tape } from '../worker/runnerFixture.js';

/** A sequence of 1-minute bars to feed a bar store in chunks, as a recorder would. */
export interface TapeSource {
  name: string;
  vtSymbol: string;
  /** More instruments of the variant (their bars are in `bars` too, merged by time). */
  universe?: string[];
  bars: StoredBar[];
}

export function simulatedTape(seed: number, minutes: number): TapeSource {
  return { name: `simulated seed ${seed}`, vtSymbol: 'rb9999.SIM', bars: new Tape(seed).next(minutes) };
}

export function asStored(bars: readonly OhlcvBar[], symbol: string, exchange: string): StoredBar[] {
  return bars.map((b) => ({ ...b, symbol, exchange, interval: '1m' }));
}
