import { create } from 'zustand';
import type { VariantSummary } from '../../shared/api.js';

/**
 * Which variants the Compare screen shows. Null until the trader picks: then the default is the
 * variants trading the first variant's instrument (e.g. its 15- and 30-minute variants).
 */
interface CompareState {
  chosen: string[] | null;
  toggle(variant: string, order: readonly string[], current: readonly string[]): void;
  reset(): void;
}

/** The variants sharing the first variant's vtSymbol; the first two variants when it has no sibling. */
export function defaultComparison(order: readonly string[], summaries: Readonly<Record<string, VariantSummary>>): string[] {
  const first = order[0];
  if (first === undefined) return [];
  const symbol = summaries[first]?.vtSymbol ?? null;
  const same = symbol === null ? [first] : order.filter((v) => summaries[v]?.vtSymbol === symbol);
  return same.length >= 2 ? same : order.slice(0, 2);
}

/** Adds or removes a variant, keeping the variants' list order; one chart always stays. */
export function toggleVariant(current: readonly string[], variant: string, order: readonly string[]): string[] {
  const set = new Set(current);
  if (set.has(variant)) {
    if (set.size === 1) return [...current];
    set.delete(variant);
  } else {
    set.add(variant);
  }
  const ordered = order.filter((v) => set.has(v));
  // A chosen variant the host no longer lists keeps its place at the end until removed.
  for (const v of set) if (!ordered.includes(v)) ordered.push(v);
  return ordered;
}

export const useCompare = create<CompareState>((set) => ({
  chosen: null,
  toggle(variant, order, current) {
    set({ chosen: toggleVariant(current, variant, order) });
  },
  reset() {
    set({ chosen: null });
  },
}));
