import { assertCount, assertFiniteArray, assertObject, assertPeriod } from '../state.js';

/**
 * The minimum (or maximum) of the last `window` values pushed, O(1) amortised per push: a
 * monotonic deque in fixed-size rings. Each entry carries an `aux` number (e.g. the dif at
 * that bar) so that "dif at the lowest low" needs no second lookup.
 *
 * Among equal extremes the latest one is kept: a retest of a low is the low a trader
 * compares against.
 */
export interface RollingExtremeState {
  window: number;
  kind: 'min' | 'max';
  /** Number of values pushed so far. */
  pushed: number;
  /** Deque entries, front (the extreme) first. */
  index: number[];
  value: number[];
  aux: number[];
}

export class RollingExtreme {
  readonly window: number;
  readonly kind: 'min' | 'max';
  private readonly isMin: boolean;
  private readonly idx: Float64Array;
  private readonly val: Float64Array;
  private readonly aux: Float64Array;
  /** The rings have a power-of-two capacity >= window, so wrapping is a mask. */
  private readonly mask: number;
  private head = 0;
  private size = 0;
  private pushed = 0;

  constructor(window: number, kind: 'min' | 'max') {
    assertPeriod(window, 'rolling window');
    this.window = window;
    this.kind = kind;
    this.isMin = kind === 'min';
    let capacity = 1;
    while (capacity < window) capacity *= 2;
    this.mask = capacity - 1;
    this.idx = new Float64Array(capacity);
    this.val = new Float64Array(capacity);
    this.aux = new Float64Array(capacity);
  }

  /** How many of the window's values have been seen (at most `window`). */
  get count(): number {
    return this.pushed < this.window ? this.pushed : this.window;
  }

  get full(): boolean {
    return this.pushed >= this.window;
  }

  /** The extreme of the window; only meaningful once something was pushed. */
  get extreme(): number {
    return this.val[this.head] as number;
  }

  /** The aux number stored with the extreme. */
  get extremeAux(): number {
    return this.aux[this.head] as number;
  }

  push(value: number, auxValue = 0): void {
    const idx = this.idx;
    const val = this.val;
    const mask = this.mask;
    const n = this.pushed;
    let head = this.head;
    let size = this.size;
    // Indices are consecutive, so at most the front entry leaves the window when n arrives;
    // it goes first, so the ring never holds more than `window` entries.
    if (size > 0 && (idx[head] as number) <= n - this.window) {
      head = (head + 1) & mask;
      size--;
    }
    if (this.isMin) {
      while (size > 0 && (val[(head + size - 1) & mask] as number) >= value) size--;
    } else {
      while (size > 0 && (val[(head + size - 1) & mask] as number) <= value) size--;
    }
    const pos = (head + size) & mask;
    idx[pos] = n;
    val[pos] = value;
    this.aux[pos] = auxValue;
    this.head = head;
    this.size = size + 1;
    this.pushed = n + 1;
  }

  copyFrom(other: RollingExtreme): void {
    if (other.window !== this.window || other.kind !== this.kind) throw new Error('rolling extreme: cannot copy a different window');
    this.idx.set(other.idx);
    this.val.set(other.val);
    this.aux.set(other.aux);
    this.head = other.head;
    this.size = other.size;
    this.pushed = other.pushed;
  }

  toState(): RollingExtremeState {
    const index: number[] = [];
    const value: number[] = [];
    const aux: number[] = [];
    for (let i = 0; i < this.size; i++) {
      const p = (this.head + i) & this.mask;
      index.push(this.idx[p] ?? 0);
      value.push(this.val[p] ?? 0);
      aux.push(this.aux[p] ?? 0);
    }
    return { window: this.window, kind: this.kind, pushed: this.pushed, index, value, aux };
  }

  static fromState(state: RollingExtremeState): RollingExtreme {
    assertObject(state, 'rolling extreme state');
    if (state.kind !== 'min' && state.kind !== 'max') throw new Error(`rolling extreme state: kind ${String(state.kind)}`);
    const r = new RollingExtreme(state.window, state.kind);
    assertCount(state.pushed, 'rolling extreme state pushed');
    assertFiniteArray(state.index, 'rolling extreme state index', state.window);
    assertFiniteArray(state.value, 'rolling extreme state value', state.window);
    assertFiniteArray(state.aux, 'rolling extreme state aux', state.window);
    if (state.value.length !== state.index.length || state.aux.length !== state.index.length) {
      throw new Error('rolling extreme state: index, value and aux differ in length');
    }
    for (let i = 0; i < state.index.length; i++) {
      r.idx[i] = state.index[i] ?? 0;
      r.val[i] = state.value[i] ?? 0;
      r.aux[i] = state.aux[i] ?? 0;
    }
    r.head = 0;
    r.size = state.index.length;
    r.pushed = state.pushed;
    return r;
  }
}
