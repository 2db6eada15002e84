import { create } from 'zustand';
import { alertLevelRank as levelRank } from '../../shared/alertLevels.js';
import type { Alert, AlertLevel, KestrelApi } from '../../shared/api.js';
import { describeCommandError } from './commands.js';

/** As many as the host keeps: the list never grows without bound in a day-long session. */
export const MAX_ALERTS = 500;
/** Live alerts from this level up also pop a toast. */
export const TOAST_MIN_LEVEL: AlertLevel = 'WARNING';
/** How long a toast stays unless dismissed. */
export const TOAST_MS = 6_000;
export const MAX_TOASTS = 3;

/** The variant filter's value for alerts about the host itself (no variant, e.g. "halt all"). */
export const HOST_WIDE = '';

export interface AlertFilter {
  /** Shows alerts at this level and above; null shows every level. */
  minLevel: AlertLevel | null;
  /** One variant, HOST_WIDE for alerts without one, null for all. */
  variant: string | null;
}

export const NO_FILTER: AlertFilter = { minLevel: null, variant: null };

export interface AlertToast {
  alert: Alert;
  /** Wall ms when it arrived. */
  at: number;
}

export interface AlertCounts {
  /** Unacknowledged alerts in all. */
  total: number;
  byLevel: Record<AlertLevel, number>;
  /** Unacknowledged alerts per named variant (host-wide ones are only in `total`). */
  byVariant: Record<string, number>;
  /** The highest level among the unacknowledged ones; null when there are none. */
  highest: AlertLevel | null;
}

function timeMs(alert: Alert): number {
  const ms = Date.parse(alert.time);
  return Number.isFinite(ms) ? ms : 0;
}

/**
 * Newest first by time. The sort is stable, so alerts raised in the same millisecond keep the
 * order they are given in (the host lists newest first; a live event is put in front).
 */
export function sortNewestFirst(alerts: readonly Alert[]): Alert[] {
  return alerts
    .map((alert, i) => ({ alert, i, t: timeMs(alert) }))
    .sort((a, b) => b.t - a.t || a.i - b.i)
    .map((x) => x.alert);
}

/**
 * Unites what is known with what arrived (a list answer or one event), one entry per id.
 * Acknowledging is one-way: an alert acknowledged on either side, or named in `acked` (an
 * `alertAcknowledged` that overtook the alert itself), stays acknowledged.
 */
export function mergeAlerts(
  known: readonly Alert[],
  incoming: readonly Alert[],
  acked: Readonly<Record<string, true>> = {},
  max = MAX_ALERTS,
): Alert[] {
  const knownById = new Map(known.map((a) => [a.id, a]));
  const seen = new Set<string>();
  const merged: Alert[] = [];
  const add = (a: Alert, other: Alert | undefined): void => {
    if (seen.has(a.id)) return;
    seen.add(a.id);
    const acknowledged = a.acknowledged || other?.acknowledged === true || acked[a.id] === true;
    merged.push(acknowledged === a.acknowledged ? a : { ...a, acknowledged });
  };
  for (const a of incoming) add(a, knownById.get(a.id));
  for (const a of known) add(a, undefined);
  const sorted = sortNewestFirst(merged);
  return sorted.length > max ? sorted.slice(0, max) : sorted;
}

export function countOpenAlerts(alerts: readonly Alert[]): AlertCounts {
  const byLevel: Record<AlertLevel, number> = { INFO: 0, WARNING: 0, ERROR: 0, CRITICAL: 0 };
  const byVariant: Record<string, number> = {};
  let total = 0;
  let highest: AlertLevel | null = null;
  for (const a of alerts) {
    if (a.acknowledged) continue;
    total += 1;
    byLevel[a.level] += 1;
    if (a.variant !== null) byVariant[a.variant] = (byVariant[a.variant] ?? 0) + 1;
    if (highest === null || levelRank(a.level) > levelRank(highest)) highest = a.level;
  }
  return { total, byLevel, byVariant, highest };
}

export function matchesFilter(alert: Alert, filter: AlertFilter): boolean {
  if (filter.minLevel !== null && levelRank(alert.level) < levelRank(filter.minLevel)) return false;
  if (filter.variant === null) return true;
  return filter.variant === HOST_WIDE ? alert.variant === null : alert.variant === filter.variant;
}

export function filterAlerts(alerts: readonly Alert[], filter: AlertFilter): Alert[] {
  return alerts.filter((a) => matchesFilter(a, filter));
}

function withAcknowledged(alerts: readonly Alert[], ids: ReadonlySet<string>): Alert[] {
  let changed = false;
  const next = alerts.map((a) => {
    if (a.acknowledged || !ids.has(a.id)) return a;
    changed = true;
    return { ...a, acknowledged: true };
  });
  return changed ? next : (alerts as Alert[]);
}

export interface AlertsState {
  /** Newest first. */
  alerts: Alert[];
  /** Acknowledgements that arrived before their alert did; applied when it shows up. */
  earlyAcks: Record<string, true>;
  loaded: boolean;
  loadError: string | null;
  panelOpen: boolean;
  filter: AlertFilter;
  /** Ids being acknowledged right now. */
  pending: Record<string, true>;
  /** The host's refusal of the last acknowledgement (e.g. 403 on a read-only host). */
  ackError: string | null;
  /** Newest first, at most MAX_TOASTS. */
  toasts: AlertToast[];
  /** A `listAlerts` answer: merged with what events brought meanwhile. */
  replaceAll(list: readonly Alert[]): void;
  setLoadError(message: string): void;
  /** An `alertRaised` event. */
  raised(alert: Alert, nowMs: number): void;
  /** An `alertAcknowledged` event (or our own acknowledgement, confirmed). */
  acknowledged(id: string): void;
  acknowledge(api: Pick<KestrelApi, 'acknowledgeAlert'>, ids: readonly string[]): Promise<void>;
  openPanel(filter?: Partial<AlertFilter>): void;
  closePanel(): void;
  togglePanel(): void;
  setFilter(filter: Partial<AlertFilter>): void;
  dismissToast(id: string): void;
  dismissAckError(): void;
}

const MAX_EARLY_ACKS = 200;

export const useAlerts = create<AlertsState>((set, get) => ({
  alerts: [],
  earlyAcks: {},
  loaded: false,
  loadError: null,
  panelOpen: false,
  filter: NO_FILTER,
  pending: {},
  ackError: null,
  toasts: [],
  replaceAll(list) {
    const { alerts, earlyAcks } = get();
    const merged = mergeAlerts(alerts, list, earlyAcks);
    const known = new Set(merged.map((a) => a.id));
    const left = Object.fromEntries(Object.keys(earlyAcks).filter((id) => !known.has(id)).map((id) => [id, true as const]));
    set({ alerts: merged, earlyAcks: left, loaded: true, loadError: null });
  },
  setLoadError(message) {
    set({ loadError: message });
  },
  raised(alert, nowMs) {
    const { alerts, earlyAcks, toasts } = get();
    const isNew = !alerts.some((a) => a.id === alert.id);
    const merged = mergeAlerts(alerts, [alert], earlyAcks);
    let nextEarly = earlyAcks;
    if (earlyAcks[alert.id]) {
      nextEarly = { ...earlyAcks };
      delete nextEarly[alert.id];
    }
    const toast =
      isNew && !alert.acknowledged && !earlyAcks[alert.id] && levelRank(alert.level) >= levelRank(TOAST_MIN_LEVEL);
    const nextToasts = toast
      ? [{ alert, at: nowMs }, ...toasts.filter((t) => nowMs - t.at < TOAST_MS)].slice(0, MAX_TOASTS)
      : toasts;
    set({ alerts: merged, earlyAcks: nextEarly, toasts: nextToasts });
  },
  acknowledged(id) {
    const { alerts, earlyAcks, toasts } = get();
    const toastsLeft = toasts.filter((t) => t.alert.id !== id);
    if (!alerts.some((a) => a.id === id)) {
      const keys = Object.keys(earlyAcks);
      const kept = keys.length >= MAX_EARLY_ACKS ? keys.slice(keys.length - MAX_EARLY_ACKS + 1) : keys;
      set({ earlyAcks: { ...Object.fromEntries(kept.map((k) => [k, true as const])), [id]: true }, toasts: toastsLeft });
      return;
    }
    set({ alerts: withAcknowledged(alerts, new Set([id])), toasts: toastsLeft });
  },
  async acknowledge(api, ids) {
    const todo = ids.filter((id) => !get().pending[id] && get().alerts.some((a) => a.id === id && !a.acknowledged));
    if (todo.length === 0) return;
    set({ pending: { ...get().pending, ...Object.fromEntries(todo.map((id) => [id, true as const])) }, ackError: null });
    let error: string | null = null;
    // One at a time, each audited by the host; the first refusal (a read-only host refuses
    // them all) stops the rest.
    for (const id of todo) {
      try {
        const result = await api.acknowledgeAlert({ id });
        if (!result.ok) {
          error = result.message;
          break;
        }
        get().acknowledged(id);
      } catch (e) {
        error = describeCommandError(e);
        break;
      }
    }
    const pending = { ...get().pending };
    for (const id of todo) delete pending[id];
    set({ pending, ackError: error });
  },
  openPanel(filter) {
    set({ panelOpen: true, filter: filter ? { ...get().filter, ...filter } : get().filter });
  },
  closePanel() {
    if (get().panelOpen) set({ panelOpen: false });
  },
  togglePanel() {
    set({ panelOpen: !get().panelOpen });
  },
  setFilter(filter) {
    set({ filter: { ...get().filter, ...filter } });
  },
  dismissToast(id) {
    set({ toasts: get().toasts.filter((t) => t.alert.id !== id) });
  },
  dismissAckError() {
    set({ ackError: null });
  },
}));
