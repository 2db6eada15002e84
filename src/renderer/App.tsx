import { useCallback, useEffect, useRef, useState } from 'react';
import { NavRail } from './components/NavRail.js';
import { StatusBar } from './components/StatusBar.js';
import { TopBar } from './components/TopBar.js';
import { CHORD_TIMEOUT_MS, shortcutAllowed } from './lib/keyboard.js';
import { SCREENS } from './screens/registry.js';
import { useNavigation } from './stores/navigation.js';

/** Alt+<n> opens the n-th screen; "g" then a screen's letter does too; "?" toggles the help. */
function useGlobalShortcuts(toggleHelp: () => void, closeHelp: () => void): void {
  const go = useNavigation((s) => s.go);
  const chordAt = useRef<number | null>(null);
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === 'Escape') closeHelp();
      if (event.altKey && !event.ctrlKey && !event.metaKey) {
        const m = /^Digit([1-9])$/.exec(event.code);
        const screen = m ? SCREENS[Number(m[1]) - 1] : undefined;
        if (screen) {
          event.preventDefault();
          go(screen.id);
        }
        return;
      }
      if (!shortcutAllowed(event) || event.altKey) return;
      const now = Date.now();
      if (chordAt.current !== null && now - chordAt.current <= CHORD_TIMEOUT_MS) {
        chordAt.current = null;
        const screen = SCREENS.find((s) => s.key === event.key.toLowerCase());
        if (screen) {
          event.preventDefault();
          go(screen.id);
        }
        return;
      }
      if (event.key === 'g') {
        chordAt.current = now;
        return;
      }
      if (event.key === '?') {
        event.preventDefault();
        toggleHelp();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go, toggleHelp, closeHelp]);
}

export function App() {
  const screen = useNavigation((s) => s.screen);
  const [helpPinned, setHelpPinned] = useState(false);
  const toggleHelp = useCallback(() => setHelpPinned((v) => !v), []);
  const closeHelp = useCallback(() => setHelpPinned(false), []);
  useGlobalShortcuts(toggleHelp, closeHelp);
  const active = SCREENS.find((s) => s.id === screen) ?? SCREENS[0];
  const Screen = active?.Component;
  return (
    <div className="app">
      <TopBar helpPinned={helpPinned} onToggleHelp={toggleHelp} />
      <NavRail />
      <main className="screen" data-screen={active?.id} aria-label={active?.label}>
        {Screen ? <Screen /> : null}
      </main>
      <StatusBar />
    </div>
  );
}
