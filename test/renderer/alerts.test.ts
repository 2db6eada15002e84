import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Alert } from '../../src/shared/api.js';
import { createHttpApi, type HttpApi } from '../../src/renderer/api/httpApi.js';
import { formatAlertTime, formatContextValue } from '../../src/renderer/lib/alertFormat.js';
import {
  HOST_WIDE,
  MAX_TOASTS,
  countOpenAlerts,
  filterAlerts,
  mergeAlerts,
  sortNewestFirst,
  useAlerts,
} from '../../src/renderer/stores/alerts.js';
import { useConnection } from '../../src/renderer/stores/connection.js';
import { startSync } from '../../src/renderer/sync.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';

function alert(id: string, over: Partial<Alert> = {}): Alert {
  return {
    id,
    time: '2026-03-02T09:00:00.000Z',
    level: 'INFO',
    variant: 'rb-15m',
    title: `title ${id}`,
    message: `message ${id}`,
    context: {},
    acknowledged: false,
    ...over,
  };
}

const at = (sec: number): string => new Date(Date.UTC(2026, 2, 2, 9, 0, sec)).toISOString();
const ids = (list: readonly Alert[]): string[] => list.map((a) => a.id);
const initial = useAlerts.getInitialState();

describe('alert ordering, merging and counting', () => {
  it('orders newest first; alerts of the same millisecond keep the order given', () => {
    const list = [alert('a', { time: at(1) }), alert('b', { time: at(5) }), alert('c', { time: at(3) }), alert('d', { time: at(5) })];
    expect(ids(sortNewestFirst(list))).toEqual(['b', 'd', 'c', 'a']);
  });

  it('merges a list answer with events without duplicates; an acknowledgement is never undone', () => {
    const fromEvents = [alert('new', { time: at(9) }), alert('x', { time: at(4), acknowledged: true })];
    // The list was taken before "new" was raised and before "x" was acknowledged.
    const listed = [alert('x', { time: at(4) }), alert('old', { time: at(2) })];
    const merged = mergeAlerts(fromEvents, listed);
    expect(ids(merged)).toEqual(['new', 'x', 'old']);
    expect(merged.find((a) => a.id === 'x')?.acknowledged).toBe(true);
    // The same answer twice changes nothing.
    expect(mergeAlerts(merged, listed)).toEqual(merged);
    // An acknowledgement that came before its alert is applied when the alert shows up.
    expect(mergeAlerts([], [alert('late', { time: at(1) })], { late: true })[0]?.acknowledged).toBe(true);
    // Bounded: the oldest go first.
    const many = Array.from({ length: 12 }, (_, i) => alert(`m${i}`, { time: at(i) }));
    expect(ids(mergeAlerts([], many, {}, 10))).toEqual(Array.from({ length: 10 }, (_, i) => `m${11 - i}`));
  });

  it('counts unacknowledged alerts by level and variant; the highest level colours the bell', () => {
    const list = [
      alert('1', { level: 'INFO', variant: 'a' }),
      alert('2', { level: 'WARNING', variant: 'a' }),
      alert('3', { level: 'ERROR', variant: 'b' }),
      alert('4', { level: 'CRITICAL', variant: 'b', acknowledged: true }),
      alert('5', { level: 'WARNING', variant: null }),
    ];
    expect(countOpenAlerts(list)).toEqual({
      total: 4,
      byLevel: { INFO: 1, WARNING: 2, ERROR: 1, CRITICAL: 0 },
      byVariant: { a: 2, b: 1 },
      highest: 'ERROR',
    });
    expect(countOpenAlerts([alert('q', { acknowledged: true })])).toEqual({
      total: 0,
      byLevel: { INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0 },
      byVariant: {},
      highest: null,
    });
  });

  it('filters by minimum level and by variant (host-wide alerts have none)', () => {
    const list = [
      alert('i', { level: 'INFO', variant: 'a' }),
      alert('w', { level: 'WARNING', variant: 'b' }),
      alert('e', { level: 'ERROR', variant: 'a' }),
      alert('c', { level: 'CRITICAL', variant: null }),
    ];
    expect(ids(filterAlerts(list, { minLevel: null, variant: null }))).toEqual(['i', 'w', 'e', 'c']);
    expect(ids(filterAlerts(list, { minLevel: 'WARNING', variant: null }))).toEqual(['w', 'e', 'c']);
    expect(ids(filterAlerts(list, { minLevel: 'CRITICAL', variant: null }))).toEqual(['c']);
    expect(ids(filterAlerts(list, { minLevel: null, variant: 'a' }))).toEqual(['i', 'e']);
    expect(ids(filterAlerts(list, { minLevel: 'ERROR', variant: 'a' }))).toEqual(['e']);
    expect(ids(filterAlerts(list, { minLevel: null, variant: HOST_WIDE }))).toEqual(['c']);
  });
});

describe('useAlerts', () => {
  beforeEach(() => useAlerts.setState(initial, true));

  it('adds live alerts once, toasts WARNING and above only, and drops the toast when acknowledged', () => {
    const s = useAlerts.getState;
    s().raised(alert('i', { level: 'INFO', time: at(1) }), 1000);
    s().raised(alert('w', { level: 'WARNING', time: at(2) }), 1001);
    s().raised(alert('w', { level: 'WARNING', time: at(2) }), 1002);
    expect(ids(s().alerts)).toEqual(['w', 'i']);
    expect(s().toasts.map((t) => t.alert.id)).toEqual(['w']);
    // The list answer arrives after the events: it brings the older one, duplicates nothing.
    s().replaceAll([alert('w', { level: 'WARNING', time: at(2) }), alert('i', { level: 'INFO', time: at(1) }), alert('o', { time: at(0) })]);
    expect(ids(s().alerts)).toEqual(['w', 'i', 'o']);
    expect(s().loaded).toBe(true);
    expect(countOpenAlerts(s().alerts).total).toBe(3);

    s().acknowledged('w');
    expect(s().alerts.find((a) => a.id === 'w')?.acknowledged).toBe(true);
    expect(s().toasts).toEqual([]);
    expect(countOpenAlerts(s().alerts)).toMatchObject({ total: 2, highest: 'INFO' });
    // A later list that has not heard of the acknowledgement does not bring it back.
    s().replaceAll([alert('w', { level: 'WARNING', time: at(2) })]);
    expect(s().alerts.find((a) => a.id === 'w')?.acknowledged).toBe(true);
  });

  it('applies an acknowledgement that overtook its alert, without a toast', () => {
    const s = useAlerts.getState;
    s().acknowledged('early');
    s().raised(alert('early', { level: 'ERROR' }), 5);
    expect(s().alerts[0]?.acknowledged).toBe(true);
    expect(s().toasts).toEqual([]);
    expect(s().earlyAcks).toEqual({});
  });

  it('keeps at most a few toasts, newest first', () => {
    const s = useAlerts.getState;
    for (let i = 0; i < MAX_TOASTS + 2; i++) s().raised(alert(`t${i}`, { level: 'CRITICAL', time: at(i) }), 100 + i);
    expect(s().toasts.map((t) => t.alert.id)).toEqual(Array.from({ length: MAX_TOASTS }, (_, i) => `t${MAX_TOASTS + 1 - i}`));
  });

  it('opens the panel filtered to a variant and keeps the filter until changed', () => {
    const s = useAlerts.getState;
    s().setFilter({ minLevel: 'ERROR' });
    s().openPanel({ variant: 'rb-15m', minLevel: null });
    expect(s().panelOpen).toBe(true);
    expect(s().filter).toEqual({ minLevel: null, variant: 'rb-15m' });
    s().togglePanel();
    expect(s().panelOpen).toBe(false);
    s().openPanel();
    expect(s().filter.variant).toBe('rb-15m');
  });
});

describe('alert display helpers', () => {
  it('shows the clock time today and the date before it on other days', () => {
    const now = new Date(2026, 2, 2, 15, 0, 0).getTime();
    expect(formatAlertTime(new Date(2026, 2, 2, 9, 5, 7).toISOString(), now)).toBe('09:05:07');
    expect(formatAlertTime(new Date(2026, 2, 1, 23, 59, 1).toISOString(), now)).toBe('03-01 23:59:01');
    expect(formatAlertTime('not a time', now)).toBe('—');
    expect(formatContextValue('SIGKILL')).toBe('SIGKILL');
    expect(formatContextValue(null)).toBe('null');
    expect(formatContextValue({ delayMs: 500 })).toBe('{"delayMs":500}');
  });
});

/** The store fed by the real sync against the real headless stack (no variants, no demo). */
function withHost(controlEnabled: boolean): { get: () => { harness: Harness; client: HttpApi }; sync: () => void } {
  let harness: Harness;
  let client: HttpApi;
  let tmp: { dir: string; remove: () => void };
  let stopSync: () => void = () => undefined;
  beforeAll(async () => {
    tmp = freshDir(`alerts-${String(controlEnabled)}`);
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] } });
    client = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
  });
  afterAll(async () => {
    client.close();
    await harness.stop();
    tmp.remove();
  });
  beforeEach(() => useAlerts.setState(initial, true));
  afterEach(() => stopSync());
  return {
    get: () => ({ harness, client }),
    sync: () => {
      stopSync = startSync(client.api, client.onConnectionChange);
    },
  };
}

describe('alerts against a host with --allow-control', () => {
  const host = withHost(true);

  it('loads, follows raised alerts live and acknowledges through the host', async () => {
    const { harness, client } = host.get();
    const s = useAlerts.getState;
    const before = harness.workstation.alerts.raise({ level: 'ERROR', variant: 'v1', title: 'Order rejected', message: 'before the page' });
    host.sync();
    await waitFor('initial list', () => s().loaded && s().alerts.some((a) => a.id === before?.id));
    await waitFor('event stream open', () => useConnection.getState().state === 'open');
    const live = harness.workstation.alerts.raise({ level: 'CRITICAL', variant: 'v2', title: 'Risk limit hit', message: 'live' });
    if (!live) throw new Error('alert not raised');
    await waitFor('the live alert', () => s().alerts.some((x) => x.id === live.id));
    expect(ids(s().alerts)).toEqual([live.id, before?.id]);
    expect(countOpenAlerts(s().alerts).highest).toBe('CRITICAL');
    expect(s().toasts.some((t) => t.alert.id === live.id)).toBe(true);

    await s().acknowledge(client.api, [live.id]);
    expect(s().ackError).toBeNull();
    expect(s().alerts.find((a) => a.id === live.id)?.acknowledged).toBe(true);
    expect(harness.workstation.alerts.list().find((a) => a.id === live.id)?.acknowledged).toBe(true);

    // Acknowledged elsewhere (another window): the event reaches this store.
    if (before) harness.workstation.alerts.acknowledge(before.id);
    await waitFor('acknowledged by event', () => s().alerts.find((a) => a.id === before?.id)?.acknowledged === true);
    expect(ids(s().alerts)).toEqual(ids(harness.workstation.alerts.list()));
  });
});

describe('alerts against a read-only host', () => {
  const host = withHost(false);

  it('shows the 403 refusal and leaves the alerts unacknowledged', async () => {
    const { harness, client } = host.get();
    const s = useAlerts.getState;
    host.sync();
    await waitFor('event stream open', () => useConnection.getState().state === 'open' && s().loaded);
    const a = harness.workstation.alerts.raise({ level: 'WARNING', variant: 'v1', title: 'Worker crashed: restarting', message: 'killed by SIGKILL' });
    const b = harness.workstation.alerts.raise({ level: 'INFO', variant: 'v1', title: 'Trading resumed', message: 'x' });
    if (!a || !b) throw new Error('alerts not raised');
    await waitFor('both listed', () => s().alerts.length === 2 || undefined);
    await s().acknowledge(client.api, [a.id, b.id]);
    expect(s().ackError).toMatch(/403/);
    expect(s().ackError).toMatch(/--allow-control/);
    expect(s().alerts.every((x) => !x.acknowledged)).toBe(true);
    expect(s().pending).toEqual({});
    expect(harness.workstation.alerts.list().every((x) => !x.acknowledged)).toBe(true);
  });
});
