import type { SignalState } from '../../shared/snapshot.js';
import type { StrategyDisplay } from '../../shared/strategyDisplay.js';
import { formatBarTime } from '../lib/format.js';

type Tone = 'up' | 'down' | 'neutral' | 'warn' | 'off';

function Badge({ label, value, tone, title, testId }: { label: string; value: string; tone: Tone; title: string; testId: string }) {
  return (
    <span className={`signal signal-${tone}`} title={title} data-testid={testId}>
      <span className="signal-label">{label}</span>
      <span className="signal-value">{value}</span>
    </span>
  );
}

function since(time: number | null): string {
  return time === null ? '' : ` since ${formatBarTime(time)}`;
}

type BadgeName = StrategyDisplay['badges'][number];
const ALL_BADGES: readonly BadgeName[] = ['emaState', 'tdSetup', 'tdCountdown', 'dullness', 'divergence'];

/**
 * The strategy's inputs at the last closed bar: EMA state, TD counts, dullness and
 * divergence with the bar they started on. Bottom signals lean long (up colour), top short.
 * Only the badges the strategy's display lists (a grid lists none); all of them for a publisher
 * whose snapshot says nothing of its display.
 */
export function SignalBadges({
  signals,
  emaLabel = 'EMA',
  vtSymbol = null,
  badges = ALL_BADGES,
}: {
  signals: SignalState | null;
  emaLabel?: string;
  vtSymbol?: string | null;
  badges?: readonly BadgeName[];
}) {
  if (badges.length === 0) return <div className="signals muted" data-testid="signal-badges" data-vt-symbol={vtSymbol ?? ''} data-badges="none">This strategy shows no signal badges.</div>;
  if (!signals) return <div className="signals muted">No signal state yet.</div>;
  const shown = new Set(badges);
  const { emaState, tdSetup, tdCountdown, bottomDullness, topDullness, bottomDivergence, topDivergence } = signals;
  const sideTone = (side: 'buy' | 'sell' | null): Tone => (side === 'buy' ? 'up' : side === 'sell' ? 'down' : 'off');
  const dullValue = (d: SignalState['bottomDullness']): string =>
    d.state === 'none' ? 'none' : `${d.state === 'structure' ? 'structure' : 'dull'}${since(d.since)}`;
  return (
    <div className="signals" data-testid="signal-badges" data-vt-symbol={vtSymbol ?? ''}>
      {shown.has('emaState') ? (<Badge
        label={emaLabel}
        value={emaState}
        tone={emaState === 'bull' ? 'up' : emaState === 'bear' ? 'down' : 'neutral'}
        title="bull: fast EMA above slow and close above fast; bear: mirrored"
        testId="signal-ema"
      />) : null}
      {shown.has('tdSetup') ? (<Badge
        label="TD setup"
        value={tdSetup.side && tdSetup.count > 0 ? `${tdSetup.side} ${tdSetup.count}/9` : '—'}
        tone={tdSetup.count > 0 ? sideTone(tdSetup.side) : 'off'}
        title="consecutive closes beyond the close 4 bars earlier; 9 completes a setup"
        testId="signal-td-setup"
      />) : null}
      {shown.has('tdCountdown') ? (<Badge
        label="TD countdown"
        value={tdCountdown.side && tdCountdown.count > 0 ? `${tdCountdown.side} ${tdCountdown.count}/13` : '—'}
        tone={tdCountdown.count > 0 ? sideTone(tdCountdown.side) : 'off'}
        title="counts after a completed setup; 13 completes"
        testId="signal-td-countdown"
      />) : null}
      {shown.has('dullness') ? (<><Badge
        label="Bottom dullness"
        value={dullValue(bottomDullness)}
        tone={bottomDullness.state === 'none' ? 'off' : bottomDullness.state === 'structure' ? 'up' : 'warn'}
        title="price at a new low while DIF is not; structure: DIF turned up while dull"
        testId="signal-bottom-dullness"
      />
      <Badge
        label="Top dullness"
        value={dullValue(topDullness)}
        tone={topDullness.state === 'none' ? 'off' : topDullness.state === 'structure' ? 'down' : 'warn'}
        title="price at a new high while DIF is not; structure: DIF turned down while dull"
        testId="signal-top-dullness"
      /></>) : null}
      {shown.has('divergence') ? (<><Badge
        label="Bottom divergence"
        value={bottomDivergence.active ? `active${since(bottomDivergence.since)}` : 'none'}
        tone={bottomDivergence.active ? 'up' : 'off'}
        title="a lower low with a higher DIF"
        testId="signal-bottom-divergence"
      />
      <Badge
        label="Top divergence"
        value={topDivergence.active ? `active${since(topDivergence.since)}` : 'none'}
        tone={topDivergence.active ? 'down' : 'off'}
        title="a higher high with a lower DIF"
        testId="signal-top-divergence"
      /></>) : null}
    </div>
  );
}
