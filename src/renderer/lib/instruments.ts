import { productOf } from '../../shared/bar.js';

/** A product of a variant's universe and the contract it trades now. */
export interface ProductContract {
  product: string;
  /** vtSymbol of the active contract, e.g. rb2605.SHFE; null while a product named alone is not resolved yet. */
  contract: string | null;
}

/**
 * A variant's products and the active contract of each: the one place the screens read it.
 * The worker's product → contract map when its updates carry one (after a roll that keeps the
 * position on the old contract, the variant follows both, and only the map says which is active);
 * else the instruments it publishes (a worker follows the active contract of each product). A
 * variant with no instrument yet shows its configured symbol, and no contract when that names a
 * product alone (`rb.SHFE`).
 */
export function productContractsOf(
  instruments: readonly { vtSymbol: string }[] | undefined,
  configured: string | null,
  activeContracts?: Readonly<Record<string, string>>,
): ProductContract[] {
  const mapped = activeContracts ? Object.entries(activeContracts) : [];
  if (mapped.length > 0) return mapped.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([product, contract]) => ({ product, contract }));
  if (instruments && instruments.length > 0) return instruments.map((i) => ({ product: productOf(i.vtSymbol), contract: i.vtSymbol }));
  if (!configured) return [];
  const product = productOf(configured);
  return [{ product, contract: configured.startsWith(`${product}.`) ? null : configured }];
}

/**
 * The instrument to show for a choice: the chosen vtSymbol; after a roll moved its product to
 * another contract, that product's new contract; else the first one.
 */
export function pickInstrument<T extends { vtSymbol: string }>(instruments: readonly T[], chosen: string | null | undefined): T | undefined {
  if (chosen) {
    const exact = instruments.find((i) => i.vtSymbol === chosen);
    if (exact) return exact;
    const product = productOf(chosen);
    const sameProduct = instruments.find((i) => productOf(i.vtSymbol) === product);
    if (sameProduct) return sameProduct;
  }
  return instruments[0];
}
