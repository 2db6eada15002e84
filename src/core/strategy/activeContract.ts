import { productOf } from '../../shared/bar.js';
import { assertObject, assertVersion } from '../state.js';

/**
 * Products and their active (dominant, 主力) contracts. A strategy trades only the active
 * contract of each product; which one that is, is state (DOMAIN.md "MACD-TD strategy").
 */

export interface ContractCandidate {
  /** The contract's id as the caller trades it; Kestrel passes vtSymbols (`rb2505.SHFE`). */
  symbol: string;
  /** Volume over the recent window (the caller's window, e.g. the last trading day). */
  volume: number;
  /** Open interest over the recent window (e.g. at its last bar). */
  openInterest: number;
}

/** Orders candidates by dominance: open interest, then volume (both descending), then symbol. */
function moreDominant(a: ContractCandidate, b: ContractCandidate): number {
  if (a.openInterest !== b.openInterest) return b.openInterest - a.openInterest;
  if (a.volume !== b.volume) return b.volume - a.volume;
  return a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0;
}

function usable(c: ContractCandidate): boolean {
  return Number.isFinite(c.openInterest) && Number.isFinite(c.volume) && c.symbol.length > 0;
}

/**
 * The dominant contract: the highest open interest; ties by the higher volume; remaining ties
 * by the lexically smaller symbol (for one product that is the nearer delivery month,
 * `rb2501` before `rb2505`). Candidates with non-finite figures are ignored; null when none is left.
 */
export function pickDominant(candidates: readonly ContractCandidate[]): string | null {
  let best: ContractCandidate | null = null;
  for (const c of candidates) {
    if (!usable(c)) continue;
    if (best === null || moreDominant(c, best) < 0) best = c;
  }
  return best === null ? null : best.symbol;
}

export interface ActiveContractsState {
  version: 1;
  /** product → active contract (vtSymbol). */
  contracts: Record<string, string>;
}

export interface ContractRoll {
  product: string;
  previous: string | null;
  current: string | null;
  changed: boolean;
}

/** The product → active contract map (state). */
export class ActiveContracts {
  private readonly map = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    for (const [product, vtSymbol] of Object.entries(initial)) this.set(product, vtSymbol);
  }

  get(product: string): string | null {
    return this.map.get(product) ?? null;
  }

  isActive(vtSymbol: string): boolean {
    return this.map.get(productOf(vtSymbol)) === vtSymbol;
  }

  /** Sets the product's active contract; returns whether it changed. */
  set(product: string, vtSymbol: string): boolean {
    if (productOf(vtSymbol) !== product) throw new Error(`active contract ${vtSymbol} is not of product ${product}`);
    if (this.map.get(product) === vtSymbol) return false;
    this.map.set(product, vtSymbol);
    return true;
  }

  /**
   * Re-picks the product's active contract from fresh candidates. The current one stays unless
   * the dominant candidate's open interest exceeds the current one's by `switchRatio` (1 = any
   * strictly higher figure; 1.1 = 10 % more), so two contracts of near-equal interest do not
   * make the strategy flip between them. Without a current contract (or when it is no longer
   * among the candidates) the dominant one is taken as is.
   */
  update(product: string, candidates: readonly ContractCandidate[], opts: { switchRatio?: number } = {}): ContractRoll {
    const ratio = opts.switchRatio ?? 1;
    if (!(ratio >= 1) || !Number.isFinite(ratio)) throw new Error(`switchRatio must be a finite number >= 1, got ${String(ratio)}`);
    for (const c of candidates) {
      if (productOf(c.symbol) !== product) throw new Error(`candidate ${c.symbol} is not of product ${product}`);
    }
    const previous = this.get(product);
    const dominant = pickDominant(candidates);
    let next = previous;
    if (dominant !== null && dominant !== previous) {
      const current = previous === null ? undefined : candidates.find((c) => c.symbol === previous && usable(c));
      const best = candidates.find((c) => c.symbol === dominant);
      if (current === undefined || (best !== undefined && best.openInterest > current.openInterest * ratio)) next = dominant;
    }
    if (next !== null && next !== previous) this.map.set(product, next);
    return { product, previous, current: next, changed: next !== previous };
  }

  /** product → vtSymbol, products sorted. */
  entries(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const product of [...this.map.keys()].sort()) out[product] = this.map.get(product) ?? '';
    return out;
  }

  toState(): ActiveContractsState {
    return { version: 1, contracts: this.entries() };
  }

  static fromState(state: ActiveContractsState): ActiveContracts {
    assertObject(state, 'active contracts state');
    assertVersion(state, 1, 'active contracts state');
    assertObject(state.contracts, 'active contracts state contracts');
    for (const [product, vtSymbol] of Object.entries(state.contracts)) {
      if (typeof vtSymbol !== 'string') throw new Error(`active contracts state contracts.${product}: expected a string`);
    }
    return new ActiveContracts(state.contracts);
  }
}
