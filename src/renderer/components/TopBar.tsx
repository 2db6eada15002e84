import { useConnection } from '../stores/connection.js';
import { useNavigation } from '../stores/navigation.js';
import { useTheme } from '../stores/theme.js';
import { sourceOf, useVariants } from '../stores/variants.js';
import { AlertBell } from './Alerts.js';
import { HelpButton } from './HelpButton.js';
import { KillSwitch } from './KillSwitch.js';

/** The variants on screen: all of them on the list, the open one on the dashboard. */
function useSimulatedShown(): boolean {
  const screen = useNavigation((s) => s.screen);
  const variant = useNavigation((s) => s.variant ?? s.lastVariant);
  return useVariants((s) => {
    const shown = screen === 'dashboard' ? (variant ? [variant] : []) : s.order;
    return shown.some((v) => sourceOf(s, v) === 'simulated');
  });
}

export function TopBar({ helpPinned, onToggleHelp }: { helpPinned: boolean; onToggleHelp: () => void }) {
  const simulated = useSimulatedShown();
  const theme = useTheme((s) => s.theme);
  const upColor = useTheme((s) => s.upColor);
  const toggleTheme = useTheme((s) => s.toggleTheme);
  const toggleUpColor = useTheme((s) => s.toggleUpColor);
  const status = useConnection((s) => s.status);
  return (
    <header className="topbar">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">Kestrel</span>
      </div>
      {simulated ? (
        <span
          className="badge badge-simulated"
          data-testid="simulated-badge"
          title="These bars come from Kestrel's simulated market, not from an exchange."
        >
          SIMULATED DATA
        </span>
      ) : null}
      {status && !status.controlEnabled ? (
        <span className="badge badge-readonly" title="This host was started without --allow-control: commands are refused.">
          READ-ONLY
        </span>
      ) : null}
      <div className="topbar-spacer" />
      <AlertBell />
      <KillSwitch />
      <button
        type="button"
        className="tool-button"
        onClick={toggleUpColor}
        title="Price-direction colours: red rising (Chinese convention) or green rising"
        data-testid="toggle-up-color"
      >
        <span className={upColor === 'red' ? 'swatch swatch-red' : 'swatch swatch-green'} aria-hidden="true" />
        {upColor === 'red' ? 'Rise red' : 'Rise green'}
      </button>
      <button
        type="button"
        className="tool-button"
        onClick={toggleTheme}
        title={theme === 'dark' ? 'Switch to the light theme' : 'Switch to the dark theme'}
        data-testid="toggle-theme"
      >
        Theme: {theme}
      </button>
      <HelpButton pinned={helpPinned} onToggle={onToggleHelp} />
    </header>
  );
}
