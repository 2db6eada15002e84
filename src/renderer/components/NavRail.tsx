import { SCREENS } from '../screens/registry.js';
import { useNavigation } from '../stores/navigation.js';

export function NavRail() {
  const screen = useNavigation((s) => s.screen);
  const go = useNavigation((s) => s.go);
  return (
    <nav className="nav" aria-label="Screens">
      <ul>
        {SCREENS.map((s, i) => (
          <li key={s.id}>
            <button
              type="button"
              className={s.id === screen ? 'nav-item active' : 'nav-item'}
              aria-current={s.id === screen ? 'page' : undefined}
              onClick={() => go(s.id)}
              title={`${s.label}: ${s.description} (Alt+${i + 1}, g ${s.key})`}
              data-testid={`nav-${s.id}`}
            >
              <span className="nav-label">{s.label}</span>
              <span className="nav-key">Alt+{i + 1}</span>
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}
