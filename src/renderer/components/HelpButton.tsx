import { useId, useState } from 'react';
import { SCREENS } from '../screens/registry.js';
import { ALERTS_KEY } from './Alerts.js';

/** The keyboard reference, shown on hover or focus, or pinned open with "?". */
export function HelpButton({ pinned, onToggle }: { pinned: boolean; onToggle: () => void }) {
  const [hover, setHover] = useState(false);
  const id = useId();
  const open = pinned || hover;
  return (
    <div className="help" onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}>
      <button
        type="button"
        className="tool-button help-button"
        aria-describedby={id}
        aria-expanded={open}
        onClick={onToggle}
        onFocus={() => setHover(true)}
        onBlur={() => setHover(false)}
        data-testid="help-button"
      >
        ?
      </button>
      <div id={id} role="tooltip" className={open ? 'help-panel open' : 'help-panel'} data-testid="help-panel">
        <h3>Keyboard</h3>
        <table>
          <tbody>
            {SCREENS.map((s, i) => (
              <tr key={s.id}>
                <td>
                  <kbd>Alt</kbd>+<kbd>{i + 1}</kbd> or <kbd>g</kbd> <kbd>{s.key}</kbd>
                </td>
                <td>{s.label}</td>
              </tr>
            ))}
            <tr>
              <td>
                <kbd>↑</kbd> <kbd>↓</kbd> / <kbd>j</kbd> <kbd>k</kbd>
              </td>
              <td>Instances: move the selection</td>
            </tr>
            <tr>
              <td>
                <kbd>Enter</kbd>
              </td>
              <td>Instances: open the selected variant</td>
            </tr>
            <tr>
              <td>
                <kbd>[</kbd> <kbd>]</kbd>
              </td>
              <td>Dashboard: previous / next variant</td>
            </tr>
            <tr>
              <td>
                <kbd>{ALERTS_KEY}</kbd> / <kbd>Esc</kbd>
              </td>
              <td>Open / close the alerts panel</td>
            </tr>
            <tr>
              <td>
                <kbd>?</kbd> / <kbd>Esc</kbd>
              </td>
              <td>Pin / close this help</td>
            </tr>
          </tbody>
        </table>
        <p className="help-note">
          Times of bars are exchange time as recorded; ages (“2 s ago”) are wall-clock time since the update arrived.
        </p>
        <p className="help-note">
          Charts by{' '}
          <a href="https://www.tradingview.com/" target="_blank" rel="noreferrer noopener">
            TradingView Lightweight Charts™
          </a>{' '}
          (Apache-2.0).
        </p>
      </div>
    </div>
  );
}
