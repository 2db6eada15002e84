import { create } from 'zustand';

/**
 * Look and feel, persisted per machine. `upColor` is the price-direction convention:
 * red rising / green falling as on Chinese futures terminals, or the Western green rising.
 */
export type ThemeName = 'dark' | 'light';
export type UpColor = 'red' | 'green';

const STORAGE_KEY = 'kestrel.appearance';

interface Appearance {
  theme: ThemeName;
  upColor: UpColor;
}

function readStored(): Appearance {
  // Dark by default whatever the OS says: a screen watched all day, usually beside others.
  const fallback: Appearance = { theme: 'dark', upColor: 'red' };
  try {
    const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(STORAGE_KEY) : null;
    if (!raw) return fallback;
    const parsed: unknown = JSON.parse(raw);
    if (!parsed || typeof parsed !== 'object') return fallback;
    const theme = 'theme' in parsed && (parsed.theme === 'dark' || parsed.theme === 'light') ? parsed.theme : fallback.theme;
    const upColor =
      'upColor' in parsed && (parsed.upColor === 'red' || parsed.upColor === 'green') ? parsed.upColor : fallback.upColor;
    return { theme, upColor };
  } catch {
    return fallback;
  }
}

function persist(a: Appearance): void {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(a));
  } catch {
    // Storage can be disabled (private window): the choice then lasts for this session only.
  }
}

function applyToDocument(a: Appearance): void {
  if (typeof document === 'undefined') return;
  document.documentElement.dataset.theme = a.theme;
  document.documentElement.dataset.up = a.upColor;
}

interface ThemeState extends Appearance {
  toggleTheme(): void;
  toggleUpColor(): void;
}

const initial = readStored();
applyToDocument(initial);

export const useTheme = create<ThemeState>((set, get) => ({
  ...initial,
  toggleTheme() {
    const next: Appearance = { theme: get().theme === 'dark' ? 'light' : 'dark', upColor: get().upColor };
    applyToDocument(next);
    persist(next);
    set(next);
  },
  toggleUpColor() {
    const next: Appearance = { theme: get().theme, upColor: get().upColor === 'red' ? 'green' : 'red' };
    applyToDocument(next);
    persist(next);
    set(next);
  },
}));
