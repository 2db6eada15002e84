import { create } from 'zustand';

/**
 * Where the trader is: one screen, and the variant it is about. Kept in the URL hash
 * (`#/dashboard/rb-15m`) so a reload or a second window lands on the same place, and the
 * `?token=` query of the headless host is left alone.
 */
export type ScreenId = 'instances' | 'dashboard' | 'logs' | 'trades' | 'compare' | 'allocation' | 'backtests' | 'data' | 'settings';

export interface Route {
  screen: ScreenId;
  variant: string | null;
}

const SCREENS: readonly ScreenId[] = ['instances', 'dashboard', 'logs', 'trades', 'compare', 'allocation', 'backtests', 'data', 'settings'];

export function parseHash(hash: string): Route {
  // A screen may keep its own state after '?' (the Trades filters: `#/trades?side=buy`).
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  const parts = path.split('/').filter((p) => p.length > 0);
  const screen = SCREENS.find((s) => s === parts[0]) ?? 'instances';
  const variant = parts[1] ? decodeURIComponent(parts[1]) : null;
  return { screen, variant };
}

export function formatHash(route: Route): string {
  return route.variant ? `#/${route.screen}/${encodeURIComponent(route.variant)}` : `#/${route.screen}`;
}

interface NavigationState extends Route {
  /** The variant last opened, remembered when the trader goes back to the list. */
  lastVariant: string | null;
  go(screen: ScreenId, variant?: string | null): void;
  syncFromHash(hash: string): void;
}

export const useNavigation = create<NavigationState>((set, get) => ({
  screen: 'instances',
  variant: null,
  lastVariant: null,
  go(screen, variant) {
    const nextVariant = variant === undefined ? (screen === 'dashboard' ? get().lastVariant : null) : variant;
    const route: Route = { screen, variant: screen === 'instances' ? null : nextVariant };
    set({ ...route, lastVariant: route.variant ?? get().lastVariant });
    const hash = formatHash(route);
    if (typeof window !== 'undefined' && window.location.hash !== hash) {
      window.history.pushState(null, '', hash);
    }
  },
  syncFromHash(hash) {
    const route = parseHash(hash);
    set({ ...route, lastVariant: route.variant ?? get().lastVariant });
  },
}));
