import { useEffect, useState, type ReactNode } from 'react';
import type { MacdTdConfig, ProtectiveLevel } from '../../shared/strategyConfig.js';
import { ALERT_LEVELS } from '../../shared/alertLevels.js';
import type { Settings, VariantConfig } from '../../shared/config.js';
import type { SettingsSection } from '../../shared/contract/settings.js';
import { useConnection } from '../stores/connection.js';
import { SECTION_LABELS, isDirty, settingsStore, useSettings } from '../stores/settings.js';
import '../styles/forms.css';
import '../styles/settings.css';
import { FieldMessages } from '../components/FieldMessages.js';

/** Messages of a field and of everything under it (`variants.0.params.stopLoss` shows `….stopLoss.value` too). */
function messagesFor(errors: Record<string, string[]>, path: string, exact = false): string[] {
  const out: string[] = [];
  for (const [key, list] of Object.entries(errors)) if (key === path || (!exact && key.startsWith(`${path}.`))) out.push(...list);
  return out;
}

/** The messages of a settings field (and, unless `exact`, of the fields under it). */
function FieldError({ path, testId, exact }: { path: string; testId?: string; exact?: boolean }) {
  const errors = useSettings((s) => s.fieldErrors);
  return <FieldMessages messages={messagesFor(errors, path, exact)} testId={testId ?? `error-${path}`} path={path} />;
}

function hasError(errors: Record<string, string[]>, path: string): boolean {
  return messagesFor(errors, path).length > 0;
}

/** A number field: empty or unreadable text is NaN, which the schema then names. */
function NumberInput({ value, onChange, path, width, step, title }: { value: number; onChange: (n: number) => void; path: string; width?: number; step?: string; title?: string }) {
  const invalid = useSettings((s) => hasError(s.fieldErrors, path));
  return (
    <input
      type="number"
      className="num"
      value={Number.isFinite(value) ? String(value) : ''}
      step={step ?? '1'}
      style={width ? { width } : undefined}
      title={title}
      aria-invalid={invalid || undefined}
      onChange={(e) => onChange(e.target.value.trim() === '' ? Number.NaN : Number(e.target.value))}
      data-testid={`input-${path}`}
    />
  );
}

function Field({ label, path, children, note }: { label: string; path: string; children: ReactNode; note?: ReactNode }) {
  return (
    <label className="form-field">
      <span className="field-label">{label}</span>
      {children}
      {note ? <span className="muted field-note">{note}</span> : null}
      <FieldError path={path} />
    </label>
  );
}

function Card({ title, children, testId, wide }: { title: string; children: ReactNode; testId: string; wide?: boolean }) {
  return (
    <section className={wide ? 'panel settings-card wide' : 'panel settings-card'} aria-label={title} data-testid={testId}>
      <div className="panel-head">
        <h2>{title}</h2>
      </div>
      <div className="settings-card-body">{children}</div>
    </section>
  );
}

function DataDirCard() {
  const view = useSettings((s) => s.view);
  if (!view) return null;
  return (
    <Card title="Data directory" testId="settings-data-dir">
      <div className="readonly-value mono" data-testid="settings-data-dir-value">
        {view.dataDir}
      </div>
      <p className="muted note">
        Chosen when Kestrel starts: <span className="mono">kestrel serve --data-dir DIR</span> headless, the <span className="mono">dataDir</span> of the
        desktop settings file on desktop. Bars (kestrel.db), snapshots and logs live there.
      </p>
      <div className="muted note">
        Settings file: <span className="mono" data-testid="settings-stored-at">{view.storedAt ?? 'none (this host cannot save settings)'}</span>
      </div>
    </Card>
  );
}

function BarSourceCard() {
  const draft = useSettings((s) => s.draft);
  const view = useSettings((s) => s.view);
  const testing = useSettings((s) => s.testing);
  const testResult = useSettings((s) => s.testResult);
  const testError = useSettings((s) => s.testError);
  const invalidUrl = useSettings((s) => hasError(s.fieldErrors, 'barSource.url'));
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  // What was typed for the other kind survives switching back and forth.
  const [remembered, setRemembered] = useState<{ path: string | null; url: string }>({ path: null, url: '' });
  if (!draft || !view) return null;
  const source = draft.barSource;
  const store = settingsStore().getState();
  const switchTo = (kind: 'sqlite' | 'mysql'): void => {
    if (kind === source.kind) return;
    if (source.kind === 'sqlite') setRemembered({ ...remembered, path: source.path });
    else setRemembered({ ...remembered, url: source.url });
    store.setBarSource(kind === 'sqlite' ? { kind: 'sqlite', path: remembered.path } : { kind: 'mysql', url: remembered.url });
  };
  return (
    <Card title="Bar source" testId="settings-bar-source">
      <div className="segmented" role="radiogroup" aria-label="Bar source kind">
        {(['sqlite', 'mysql'] as const).map((kind) => (
          <button
            key={kind}
            type="button"
            role="radio"
            aria-checked={source.kind === kind}
            className={source.kind === kind ? 'seg active' : 'seg'}
            onClick={() => switchTo(kind)}
            data-testid={`bar-source-${kind}`}
          >
            {kind === 'sqlite' ? 'SQLite file' : 'MySQL / MariaDB'}
          </button>
        ))}
      </div>
      {source.kind === 'sqlite' ? (
        <Field label="SQLite file (vnpy schema)" path="barSource.path" note="empty: kestrel.db in the data directory (the demo writes there)">
          <input
            type="text"
            className="mono wide-input"
            value={source.path ?? ''}
            placeholder={`${view.dataDir}/kestrel.db`}
            spellCheck={false}
            onChange={(e) => store.setBarSource({ kind: 'sqlite', path: e.target.value === '' ? null : e.target.value })}
            data-testid="input-barSource.path"
          />
        </Field>
      ) : (
        <Field label="MySQL URL (vnpy_mysql's tables)" path="barSource.url" note="the password is kept in the settings file and shown here as ***">
          <input
            type="text"
            className="mono wide-input"
            value={source.url}
            placeholder="mysql://user:password@127.0.0.1:3306/vnpy"
            spellCheck={false}
            autoComplete="off"
            aria-invalid={invalidUrl || undefined}
            onChange={(e) => store.setBarSource({ kind: 'mysql', url: e.target.value })}
            data-testid="input-barSource.url"
          />
        </Field>
      )}
      <FieldError path="barSource" testId="error-barSource-kind" exact />
      <div className="test-row">
        <button
          type="button"
          className="btn btn-small"
          disabled={testing || control === false}
          onClick={() => void store.testBarSource()}
          data-testid="bar-source-test"
          title={control === false ? 'This host is read-only: start it with --allow-control' : 'Open the source read-only and count its dbbaroverview rows'}
        >
          {testing ? 'Testing…' : 'Test connection'}
        </button>
        {testResult ? (
          <span className={testResult.ok ? 'test-result ok' : 'test-result error'} role="status" data-testid="bar-source-test-result" data-ok={testResult.ok ? 'true' : 'false'}>
            {testResult.ok ? '✓ ' : '✗ '}
            {testResult.message}
          </span>
        ) : null}
        {testError ? (
          <span className="test-result error" role="alert" data-testid="bar-source-test-error">
            {testError}
          </span>
        ) : null}
      </div>
    </Card>
  );
}

function DemoCard() {
  const demo = useSettings((s) => s.draft?.demo);
  const running = useSettings((s) => s.view?.running.demo);
  if (!demo || !running) return null;
  const edit = (change: Partial<typeof demo>): void => settingsStore().getState().edit((d) => ({ ...d, demo: { ...d.demo, ...change } }));
  const differs = running.enabled !== demo.enabled || running.speed !== demo.speed || running.seed !== demo.seed;
  return (
    <Card title="Demo (simulated market, exchange SIM)" testId="settings-demo">
      <label className="check">
        <input type="checkbox" checked={demo.enabled} onChange={(e) => edit({ enabled: e.target.checked })} data-testid="input-demo.enabled" />
        <span>Run the simulated market</span>
      </label>
      <div className="form-row">
        <Field label="Speed (sim. min / real min)" path="demo.speed">
          <NumberInput value={demo.speed} path="demo.speed" step="any" width={90} onChange={(speed) => edit({ speed })} />
        </Field>
        <Field label="Seed" path="demo.seed">
          <NumberInput value={demo.seed} path="demo.seed" width={110} onChange={(seed) => edit({ seed })} />
        </Field>
      </div>
      {differs ? (
        <div className="muted note" data-testid="settings-demo-running">
          Running now: {running.enabled ? `${running.speed}× (seed ${running.seed})` : 'off'} — command-line flags, or a saved change awaiting a restart.
        </div>
      ) : null}
    </Card>
  );
}

function SupervisorCard() {
  const sup = useSettings((s) => s.draft?.supervisor);
  if (!sup) return null;
  const edit = (change: Partial<typeof sup>): void => settingsStore().getState().edit((d) => ({ ...d, supervisor: { ...d.supervisor, ...change } }));
  return (
    <Card title="Supervisor (worker restarts)" testId="settings-supervisor">
      <div className="form-row">
        <Field label="First backoff, ms" path="supervisor.backoffInitialMs">
          <NumberInput value={sup.backoffInitialMs} path="supervisor.backoffInitialMs" width={90} onChange={(n) => edit({ backoffInitialMs: n })} />
        </Field>
        <Field label="Max backoff, ms" path="supervisor.backoffMaxMs">
          <NumberInput value={sup.backoffMaxMs} path="supervisor.backoffMaxMs" width={90} onChange={(n) => edit({ backoffMaxMs: n })} />
        </Field>
      </div>
      <div className="form-row">
        <Field label="Crashes before giving up" path="supervisor.maxCrashes">
          <NumberInput value={sup.maxCrashes} path="supervisor.maxCrashes" width={90} onChange={(n) => edit({ maxCrashes: n })} />
        </Field>
        <Field label="…within, ms" path="supervisor.crashWindowMs">
          <NumberInput value={sup.crashWindowMs} path="supervisor.crashWindowMs" width={90} onChange={(n) => edit({ crashWindowMs: n })} />
        </Field>
      </div>
      <p className="muted note">
        A crashed worker restarts after first × 2<sup>n−1</sup>, capped at max; after the given crashes within the window it stays down, with a CRITICAL alert.
      </p>
    </Card>
  );
}

/** "host:port" as a URL authority: an IPv6 address goes in brackets. */
function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function MetricsCard() {
  const metrics = useSettings((s) => s.draft?.metrics);
  const saved = useSettings((s) => s.view?.settings.metrics);
  const running = useSettings((s) => s.view?.running.metrics);
  const invalidPort = useSettings((s) => hasError(s.fieldErrors, 'metrics.port'));
  const invalidHost = useSettings((s) => hasError(s.fieldErrors, 'metrics.host'));
  if (!metrics || !saved || !running) return null;
  const edit = (change: Partial<typeof metrics>): void => settingsStore().getState().edit((d) => ({ ...d, metrics: { ...d.metrics, ...change } }));
  const port = metrics.port;
  const usable = port !== null && Number.isInteger(port) && port >= 1 && port <= 65_535;
  const shown = (m: typeof metrics): string => (m.port === null ? 'off' : m.port === 0 ? `${m.host}, any free port` : `http://${authority(m.host, m.port)}/metrics`);
  // What the file says against what runs: --metrics-port, or a saved change awaiting a restart.
  const differs = running.port !== saved.port || running.host !== saved.host;
  return (
    <Card title="Metrics (Prometheus)" testId="settings-metrics">
      <div className="form-row">
        {/* Fixed widths: a message under a field wraps there instead of pushing the other field down. */}
        <label className="form-field" style={{ width: 110 }}>
          <span className="field-label">Port</span>
          <input
            type="number"
            className="num"
            value={port === null || !Number.isFinite(port) ? '' : String(port)}
            step="1"
            placeholder="off"
            aria-invalid={invalidPort || undefined}
            onChange={(e) => edit({ port: e.target.value.trim() === '' ? null : Number(e.target.value) })}
            data-testid="input-metrics.port"
          />
          <FieldError path="metrics.port" />
        </label>
        <label className="form-field" style={{ width: 150 }}>
          <span className="field-label">Host (bind address)</span>
          <input
            type="text"
            className="mono"
            value={metrics.host}
            placeholder="127.0.0.1"
            spellCheck={false}
            aria-invalid={invalidHost || undefined}
            onChange={(e) => edit({ host: e.target.value })}
            data-testid="input-metrics.host"
          />
          <FieldError path="metrics.host" />
        </label>
        <label className="check" style={{ alignSelf: 'end' }}>
          <input type="checkbox" checked={metrics.allowNonLoopback} onChange={(e) => edit({ allowNonLoopback: e.target.checked })} data-testid="input-metrics.allowNonLoopback" />
          Serve beyond this machine
        </label>
      </div>
      <p className="muted note" data-testid="settings-metrics-url">
        {usable ? (
          <>
            Serves <span className="mono">{`http://${authority(metrics.host, port)}/metrics`}</span>
          </>
        ) : (
          <>Port empty: off. Serves GET /metrics</>
        )}
        : status, restarts, kill switch, alerts and trades per variant. No token: keep the host on 127.0.0.1 unless the network may read it.
      </p>
      {differs ? (
        <div className="muted note" data-testid="settings-metrics-running">
          Running now: {shown(running)} (<span className="mono">--metrics-port</span>, or a saved change awaiting a restart).
        </div>
      ) : null}
    </Card>
  );
}

/** Where backtests run: this machine's job runner, or a BullMQ queue on Redis that backtest-workers take jobs from. */
function BacktestQueueCard() {
  const backtest = useSettings((s) => s.draft?.backtest);
  const running = useSettings((s) => s.view?.running.backtest);
  const invalidQueue = useSettings((s) => hasError(s.fieldErrors, 'backtest.queue'));
  if (!backtest || !running) return null;
  const edit = (change: Partial<typeof backtest>): void => settingsStore().getState().edit((d) => ({ ...d, backtest: { ...d.backtest, ...change } }));
  const local = backtest.queue === 'local';
  return (
    <Card title="Backtest queue" testId="settings-backtest">
      <div className="form-row">
        <label className="form-field" style={{ width: 260 }}>
          <span className="field-label">Queue (local, or a Redis URL)</span>
          <input
            type="text"
            className="mono"
            value={backtest.queue}
            placeholder="local"
            spellCheck={false}
            aria-invalid={invalidQueue || undefined}
            onChange={(e) => edit({ queue: e.target.value.trim() === '' ? 'local' : e.target.value })}
            data-testid="input-backtest.queue"
          />
          <FieldError path="backtest.queue" />
        </label>
        <label className="form-field" style={{ width: 160 }}>
          <span className="field-label">Queue name</span>
          <input type="text" className="mono" value={backtest.queueName} disabled={local} spellCheck={false} onChange={(e) => edit({ queueName: e.target.value })} data-testid="input-backtest.queueName" />
          <FieldError path="backtest.queueName" />
        </label>
        <label className="check" style={{ alignSelf: 'end' }}>
          <input type="checkbox" checked={backtest.allowNonLoopback} disabled={local} onChange={(e) => edit({ allowNonLoopback: e.target.checked })} data-testid="input-backtest.allowNonLoopback" />
          Queue beyond this machine
        </label>
      </div>
      <p className="muted note">
        {local ? (
          <>Jobs run on this machine&apos;s threads.</>
        ) : (
          <>
            Jobs go to the BullMQ queue; start workers with <span className="mono">{`npx kestrel backtest-worker --queue ${backtest.queue.includes('@') ? 'redis://…' : backtest.queue} --queue-name ${backtest.queueName}`}</span>.
            Pause is not available there (cancel is).
          </>
        )}
      </p>
      {running.queue !== backtest.queue ? (
        <div className="muted note" data-testid="settings-backtest-running">
          Running now: {running.queue === 'local' ? 'local' : running.queue} (<span className="mono">serve --queue</span>, or a saved change awaiting a restart).
        </div>
      ) : null}
    </Card>
  );
}

type AlertsDraft = Settings['alerts'];
type MinLevel = NonNullable<AlertsDraft['webhook']>['minLevel'];

/** What a channel starts with when switched on for the first time. */
const NEW_CHANNEL = {
  webhook: { url: '', minLevel: 'WARNING', enabled: true, allowNonLoopback: false },
  email: { host: '', port: 587, secure: false, user: '', password: '', from: '', to: [], minLevel: 'ERROR', enabled: true },
  telegram: { baseUrl: 'https://api.telegram.org', botToken: '', chatId: '', minLevel: 'WARNING', enabled: true },
} satisfies { [K in 'webhook' | 'email' | 'telegram']: NonNullable<AlertsDraft[K]> };

function TextInput({ value, path, onChange, placeholder, width }: { value: string; path: string; onChange: (v: string) => void; placeholder?: string; width?: number }) {
  const invalid = useSettings((s) => hasError(s.fieldErrors, path));
  return (
    <input
      type="text"
      className="mono"
      value={value}
      placeholder={placeholder}
      spellCheck={false}
      autoComplete="off"
      style={width ? { width } : undefined}
      aria-invalid={invalid || undefined}
      onChange={(e) => onChange(e.target.value)}
      data-testid={`input-${path}`}
    />
  );
}

function MinLevelSelect({ value, path, onChange }: { value: MinLevel; path: string; onChange: (l: MinLevel) => void }) {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value as MinLevel)} data-testid={`input-${path}`}>
      {ALERT_LEVELS.map((l) => (
        <option key={l} value={l}>
          {l} and above
        </option>
      ))}
    </select>
  );
}

/** Recipients typed as "a@x, b@y": the text is kept as typed, the list follows it. */
function RecipientsInput({ to, path, onChange }: { to: string[]; path: string; onChange: (to: string[]) => void }) {
  const [text, setText] = useState(() => to.join(', '));
  const invalid = useSettings((s) => hasError(s.fieldErrors, path));
  return (
    <input
      type="text"
      className="mono wide-input"
      value={text}
      placeholder="trader@example.com, desk@example.com"
      spellCheck={false}
      aria-invalid={invalid || undefined}
      onChange={(e) => {
        setText(e.target.value);
        onChange(e.target.value.split(/[,;\s]+/).filter((a) => a !== ''));
      }}
      data-testid={`input-${path}`}
    />
  );
}

function ChannelHead<K extends 'webhook' | 'email' | 'telegram'>({ name, label, channel, edit }: { name: K; label: string; channel: AlertsDraft[K]; edit: (c: AlertsDraft[K]) => void }) {
  const on = channel?.enabled ?? false;
  const toggle = (checked: boolean): void => {
    if (checked) edit((channel ? { ...channel, enabled: true } : structuredClone(NEW_CHANNEL[name])) as AlertsDraft[K]);
    // A channel switched off before anything was typed is not kept (its empty fields would not save).
    else if (channel && JSON.stringify({ ...channel, enabled: true }) === JSON.stringify(NEW_CHANNEL[name])) edit(null as AlertsDraft[K]);
    else if (channel) edit({ ...channel, enabled: false } as AlertsDraft[K]);
  };
  return (
    <label className="check alert-channel-head">
      <input type="checkbox" checked={on} onChange={(e) => toggle(e.target.checked)} data-testid={`input-alerts.${name}.enabled`} />
      <strong>{label}</strong>
      {channel && !on ? <span className="muted">off (kept)</span> : null}
    </label>
  );
}

function AlertsCard() {
  const alerts = useSettings((s) => s.draft?.alerts);
  if (!alerts) return null;
  const edit = (change: Partial<AlertsDraft>): void => settingsStore().getState().edit((d) => ({ ...d, alerts: { ...d.alerts, ...change } }));
  const { webhook, email, telegram } = alerts;
  return (
    <Card title="Alert channels" testId="settings-alerts" wide>
      <div className="form-row">
        <Field label="Quiet period, s" path="alerts.quietSeconds">
          <NumberInput value={alerts.quietSeconds} path="alerts.quietSeconds" width={80} onChange={(n) => edit({ quietSeconds: n })} />
        </Field>
        <p className="muted note" style={{ alignSelf: 'end' }}>
          The same alert (key) is not repeated on any channel within the quiet period. Desktop notification and tray always; each channel below gets the alerts at or
          above its minimum level, in the background (5 s timeout, one retry): a failing channel is logged, never blocks trading.
        </p>
      </div>
      <div className="alert-channels">
        <div className="alert-channel" data-testid="settings-alerts-webhook">
          <ChannelHead name="webhook" label="Webhook (JSON POST)" channel={webhook} edit={(c) => edit({ webhook: c })} />
          {webhook ? (
            <>
              <Field label="URL" path="alerts.webhook.url">
                <TextInput value={webhook.url} path="alerts.webhook.url" placeholder="https://hooks.example.com/kestrel" onChange={(url) => edit({ webhook: { ...webhook, url } })} />
              </Field>
              <label className="check">
                <input
                  type="checkbox"
                  checked={webhook.allowNonLoopback}
                  onChange={(e) => edit({ webhook: { ...webhook, allowNonLoopback: e.target.checked } })}
                  data-testid="input-alerts.webhook.allowNonLoopback"
                />
                Post beyond this machine
              </label>
              <Field label="Minimum level" path="alerts.webhook.minLevel">
                <MinLevelSelect value={webhook.minLevel} path="alerts.webhook.minLevel" onChange={(minLevel) => edit({ webhook: { ...webhook, minLevel } })} />
              </Field>
            </>
          ) : null}
        </div>
        <div className="alert-channel" data-testid="settings-alerts-email">
          <ChannelHead name="email" label="E-mail (SMTP)" channel={email} edit={(c) => edit({ email: c })} />
          {email ? (
            <>
              <div className="form-row">
                <Field label="SMTP host" path="alerts.email.host">
                  <TextInput value={email.host} path="alerts.email.host" placeholder="smtp.example.com" width={150} onChange={(host) => edit({ email: { ...email, host } })} />
                </Field>
                <Field label="Port" path="alerts.email.port">
                  <NumberInput value={email.port} path="alerts.email.port" width={64} onChange={(port) => edit({ email: { ...email, port } })} />
                </Field>
                <label className="check" title="TLS from the first byte (port 465); off: STARTTLS when the server offers it">
                  <input type="checkbox" checked={email.secure} onChange={(e) => edit({ email: { ...email, secure: e.target.checked } })} data-testid="input-alerts.email.secure" />
                  <span>TLS</span>
                </label>
              </div>
              <div className="form-row">
                <Field label="User (empty: no login)" path="alerts.email.user">
                  <TextInput value={email.user ?? ''} path="alerts.email.user" width={120} onChange={(user) => edit({ email: { ...email, user } })} />
                </Field>
                <Field label="Password (*** keeps the stored one)" path="alerts.email.password">
                  <TextInput value={email.password ?? ''} path="alerts.email.password" width={120} onChange={(password) => edit({ email: { ...email, password } })} />
                </Field>
              </div>
              <Field label="From" path="alerts.email.from">
                <TextInput value={email.from} path="alerts.email.from" placeholder="kestrel@example.com" onChange={(from) => edit({ email: { ...email, from } })} />
              </Field>
              <Field label="To (comma-separated)" path="alerts.email.to">
                <RecipientsInput to={email.to} path="alerts.email.to" onChange={(to) => edit({ email: { ...email, to } })} />
              </Field>
              <Field label="Minimum level" path="alerts.email.minLevel">
                <MinLevelSelect value={email.minLevel} path="alerts.email.minLevel" onChange={(minLevel) => edit({ email: { ...email, minLevel } })} />
              </Field>
            </>
          ) : null}
        </div>
        <div className="alert-channel" data-testid="settings-alerts-telegram">
          <ChannelHead name="telegram" label="Telegram (bot API)" channel={telegram} edit={(c) => edit({ telegram: c })} />
          {telegram ? (
            <>
              <Field label="API base URL" path="alerts.telegram.baseUrl">
                <TextInput value={telegram.baseUrl} path="alerts.telegram.baseUrl" onChange={(baseUrl) => edit({ telegram: { ...telegram, baseUrl } })} />
              </Field>
              <div className="form-row">
                <Field label="Bot token (*** keeps the stored one)" path="alerts.telegram.botToken">
                  <TextInput value={telegram.botToken} path="alerts.telegram.botToken" placeholder="123456:ABC-DEF…" width={150} onChange={(botToken) => edit({ telegram: { ...telegram, botToken } })} />
                </Field>
                <Field label="Chat id" path="alerts.telegram.chatId">
                  <TextInput value={telegram.chatId} path="alerts.telegram.chatId" placeholder="-1001234567890" width={120} onChange={(chatId) => edit({ telegram: { ...telegram, chatId } })} />
                </Field>
              </div>
              <Field label="Minimum level" path="alerts.telegram.minLevel">
                <MinLevelSelect value={telegram.minLevel} path="alerts.telegram.minLevel" onChange={(minLevel) => edit({ telegram: { ...telegram, minLevel } })} />
              </Field>
            </>
          ) : null}
        </div>
      </div>
    </Card>
  );
}

/** Stop-loss / take-profit: empty = none; a number in ticks or % of the entry price. */
function LevelInput({ level, path, onChange }: { level: ProtectiveLevel | null; path: string; onChange: (l: ProtectiveLevel | null) => void }) {
  const invalid = useSettings((s) => hasError(s.fieldErrors, path));
  return (
    <span className="level-input">
      <input
        type="number"
        className="num"
        step="any"
        value={level ? (Number.isFinite(level.value) ? String(level.value) : '') : ''}
        placeholder="none"
        aria-invalid={invalid || undefined}
        onChange={(e) => {
          const text = e.target.value.trim();
          onChange(text === '' ? null : { unit: level?.unit ?? 'ticks', value: Number(text) });
        }}
        data-testid={`input-${path}`}
      />
      <select value={level?.unit ?? 'ticks'} disabled={!level} onChange={(e) => level && onChange({ ...level, unit: e.target.value as ProtectiveLevel['unit'] })}>
        <option value="ticks">ticks</option>
        <option value="percent">%</option>
      </select>
    </span>
  );
}

/** Parameters beyond the key columns, as JSON (commission, contracts, signal periods …). */
function ParamsJson({ variant, index }: { variant: VariantConfig; index: number }) {
  const [text, setText] = useState(() => JSON.stringify(variant.params, null, 2));
  const [problem, setProblem] = useState<string | null>(null);
  const apply = (): void => {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the parameters are a JSON object');
      setProblem(null);
      settingsStore()
        .getState()
        .updateVariant(index, (v) => ({ ...v, params: parsed as VariantConfig['params'] }));
    } catch (err) {
      setProblem(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <div className="params-json">
      <textarea className="mono" value={text} rows={10} spellCheck={false} onChange={(e) => setText(e.target.value)} onBlur={apply} data-testid={`input-variants.${index}.params-json`} />
      {problem ? <div className="field-error">{problem}</div> : <span className="muted">Applied when the field is left; checked by the same schema on Save.</span>}
    </div>
  );
}

const KEY_CELLS = ['name', 'vtSymbol', 'windowMinutes', 'enabled', 'params.orderVolume', 'params.stopLoss', 'params.takeProfit', 'params.maxDailyOpenPerProduct'];

function VariantRow({ variant, index }: { variant: VariantConfig; index: number }) {
  const [open, setOpen] = useState(false);
  const errors = useSettings((s) => s.fieldErrors);
  const store = settingsStore().getState();
  const update = (change: (v: VariantConfig) => VariantConfig): void => store.updateVariant(index, change);
  const p = `variants.${index}`;
  const cellError = (key: string): ReactNode => <FieldError path={`${p}.${key}`} />;
  // The key columns are MACD-TD's (the one strategy with a form); other strategies edit params as JSON below.
  const params = variant.params as Partial<MacdTdConfig>;
  // Whatever the key columns do not show (commission, signal periods, feed …) is shown under the row.
  const other = Object.entries(errors).filter(([key]) => key.startsWith(`${p}.`) && !KEY_CELLS.some((c) => key === `${p}.${c}` || key.startsWith(`${p}.${c}.`)));
  return (
    <>
      <tr data-testid="variant-row" data-index={index}>
        <td>
          <input type="text" className="mono" value={variant.name} spellCheck={false} onChange={(e) => update((v) => ({ ...v, name: e.target.value }))} data-testid={`input-${p}.name`} />
          {cellError('name')}
        </td>
        <td>
          <input type="text" className="mono" value={variant.vtSymbol} spellCheck={false} onChange={(e) => update((v) => ({ ...v, vtSymbol: e.target.value }))} data-testid={`input-${p}.vtSymbol`} />
          {cellError('vtSymbol')}
        </td>
        <td className="num">
          <NumberInput value={variant.windowMinutes} path={`${p}.windowMinutes`} width={56} onChange={(n) => update((v) => ({ ...v, windowMinutes: n }))} title="Minutes per window bar: 1, 2, 3, 5, 10, 15, 20, 30 or 60" />
          {cellError('windowMinutes')}
        </td>
        <td className="center">
          <input type="checkbox" checked={variant.enabled} onChange={(e) => update((v) => ({ ...v, enabled: e.target.checked }))} data-testid={`input-${p}.enabled`} />
        </td>
        <td className="num">
          <NumberInput value={params.orderVolume ?? 1} path={`${p}.params.orderVolume`} width={52} onChange={(n) => update((v) => ({ ...v, params: { ...v.params, orderVolume: n } }))} />
          {cellError('params.orderVolume')}
        </td>
        <td>
          <LevelInput level={params.stopLoss ?? null} path={`${p}.params.stopLoss`} onChange={(l) => update((v) => ({ ...v, params: { ...v.params, stopLoss: l } }))} />
          {cellError('params.stopLoss')}
        </td>
        <td>
          <LevelInput level={params.takeProfit ?? null} path={`${p}.params.takeProfit`} onChange={(l) => update((v) => ({ ...v, params: { ...v.params, takeProfit: l } }))} />
          {cellError('params.takeProfit')}
        </td>
        <td className="num">
          <NumberInput
            value={params.maxDailyOpenPerProduct ?? 3}
            path={`${p}.params.maxDailyOpenPerProduct`}
            width={52}
            onChange={(n) => update((v) => ({ ...v, params: { ...v.params, maxDailyOpenPerProduct: n } }))}
          />
          {cellError('params.maxDailyOpenPerProduct')}
        </td>
        <td className="col-actions">
          <button type="button" className="btn btn-small" aria-expanded={open} onClick={() => setOpen(!open)} title="All parameters as JSON">
            {open ? 'Hide' : 'JSON'}
          </button>
          <button type="button" className="btn btn-small" onClick={() => store.removeVariant(index)} title={`Remove ${variant.name}`} data-testid={`remove-variant-${index}`}>
            Remove
          </button>
        </td>
      </tr>
      {open || other.length > 0 ? (
        <tr className="variant-detail">
          <td colSpan={9}>
            {other.length > 0 ? (
              <div className="field-error" role="alert">
                {other.map(([key, list]) => (
                  <div key={key}>
                    <span className="mono">{key.slice(p.length + 1)}</span>: {list.join('; ')}
                  </div>
                ))}
              </div>
            ) : null}
            {open ? <ParamsJson key={JSON.stringify(variant.params)} variant={variant} index={index} /> : null}
          </td>
        </tr>
      ) : null}
    </>
  );
}

function VariantsCard() {
  const variants = useSettings((s) => s.draft?.variants);
  const demoEnabled = useSettings((s) => s.draft?.demo.enabled ?? false);
  if (!variants) return null;
  return (
    <Card title="Variants" testId="settings-variants" wide>
      {variants.length === 0 ? (
        <div className="muted note" data-testid="variants-none">
          No variants configured: {demoEnabled ? 'the demo runs its own (demo-15m, demo-30m, demo-i-15m and demo-multi-15m on the SIM market).' : 'nothing runs.'} Adding one
          replaces the demo's.
        </div>
      ) : (
        <table className="grid compact variants-table" data-testid="variants-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>vtSymbol</th>
              <th className="num">Window, min</th>
              <th>On</th>
              <th className="num">Lots</th>
              <th>Stop-loss</th>
              <th>Take-profit</th>
              <th className="num" title="Opens per product per trading day">Opens / day</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {variants.map((v, i) => (
              <VariantRow key={i} variant={v} index={i} />
            ))}
          </tbody>
        </table>
      )}
      <div>
        <button type="button" className="btn btn-small" onClick={() => settingsStore().getState().addVariant()} data-testid="add-variant">
          Add variant
        </button>
      </div>
    </Card>
  );
}

const NO_SECTIONS: readonly SettingsSection[] = [];

function SaveBar() {
  const draft = useSettings((s) => s.draft);
  const dirty = useSettings((s) => isDirty(s));
  const saving = useSettings((s) => s.saving);
  const saveError = useSettings((s) => s.saveError);
  const saveResult = useSettings((s) => s.saveResult);
  const restart = useSettings((s) => s.view?.restartNeeded ?? NO_SECTIONS);
  const errors = useSettings((s) => s.fieldErrors);
  const control = useConnection((s) => s.status?.controlEnabled ?? null);
  const storedAt = useSettings((s) => s.view?.storedAt ?? null);
  if (!draft) return null;
  // A message no field on the page shows (a path the form has no input for).
  const shownPrefixes = ['barSource', 'demo', 'supervisor', 'metrics', 'backtest', 'alerts', 'variants.'];
  const unplaced = Object.entries(errors).filter(([key]) => !shownPrefixes.some((p) => key.startsWith(p)));
  return (
    <div className="save-bar" data-testid="settings-save-bar">
      <button
        type="button"
        className="btn btn-primary"
        disabled={saving || !dirty || control === false || storedAt === null}
        onClick={() => void settingsStore().getState().save()}
        data-testid="settings-save"
        title={control === false ? 'This host is read-only: start it with --allow-control' : 'Save (Ctrl+S)'}
      >
        {saving ? 'Saving…' : 'Save'}
      </button>
      <button type="button" className="btn" disabled={saving || !dirty} onClick={() => settingsStore().getState().reset()} data-testid="settings-discard">
        Discard changes
      </button>
      {dirty ? <span className="muted">unsaved changes</span> : null}
      {control === false ? <span className="muted">read-only host: start it with --allow-control to save</span> : null}
      {saveError ? (
        <span className="field-error" role="alert" data-testid="settings-save-error">
          {saveError}
          {unplaced.map(([key, list]) => (
            <span key={key}>
              {' '}
              — {key || '(settings)'}: {list.join('; ')}
            </span>
          ))}
        </span>
      ) : null}
      {saveResult && !saveError ? (
        <span className="save-ok" role="status" data-testid="settings-saved">
          Saved.
        </span>
      ) : null}
      {restart.length > 0 ? (
        <span className="restart-needed" data-testid="settings-restart-needed">
          restart needed for: {restart.map((s) => SECTION_LABELS[s]).join(', ')}
        </span>
      ) : null}
    </div>
  );
}

export function SettingsScreen() {
  const loadError = useSettings((s) => s.loadError);
  const view = useSettings((s) => s.view);
  useEffect(() => {
    void settingsStore().getState().load();
    const onKey = (event: KeyboardEvent): void => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 's') {
        event.preventDefault();
        void settingsStore().getState().save();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="settings-screen" data-testid="settings-screen">
      <div className="screen-header">
        <h1>Settings</h1>
        <span className="muted">read once at start: a saved change takes effect at the next start</span>
      </div>
      {loadError ? (
        <div className="empty error" role="alert">
          {loadError}
        </div>
      ) : null}
      {view?.problem ? (
        <div className="empty error" role="alert" data-testid="settings-problem">
          The settings file is not valid ({view.problem}); the form shows what runs now. Saving replaces the file.
        </div>
      ) : null}
      {view ? (
        <>
          <div className="settings-scroll">
            <div className="settings-grid">
              <DataDirCard />
              <BarSourceCard />
              <DemoCard />
              <SupervisorCard />
              <MetricsCard />
              <BacktestQueueCard />
              <AlertsCard />
              <VariantsCard />
            </div>
          </div>
          <SaveBar />
        </>
      ) : null}
    </div>
  );
}
