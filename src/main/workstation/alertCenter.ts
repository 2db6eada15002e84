import { randomUUID } from 'node:crypto';
import type { Alert, AlertLevel } from '../../shared/api.js';
import type { EventBus } from './eventBus.js';

const MAX_KEPT = 500;

export interface RaiseAlert {
  level: AlertLevel;
  variant: string | null;
  title: string;
  message: string;
  context?: Record<string, unknown>;
  /** Alerts with the same key are not repeated within the quiet period. */
  key?: string;
}

/**
 * Raises, keeps and routes alerts. The same key is not raised twice within `quietMs`, so
 * a worker crashing in a loop is one alert a minute, not a flood.
 */
export class AlertCenter {
  private readonly alerts: Alert[] = [];
  private readonly lastByKey = new Map<string, number>();

  constructor(
    private readonly bus: EventBus,
    private readonly deliver: (alert: Alert) => void,
    private readonly quietMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  raise(a: RaiseAlert): Alert | null {
    const now = this.clock();
    const key = a.key ?? `${a.variant ?? '-'}:${a.title}`;
    const last = this.lastByKey.get(key);
    if (last !== undefined && now - last < this.quietMs) return null;
    this.lastByKey.set(key, now);
    const alert: Alert = {
      id: randomUUID(),
      time: new Date(now).toISOString(),
      level: a.level,
      variant: a.variant,
      title: a.title,
      message: a.message,
      context: a.context ?? {},
      acknowledged: false,
    };
    this.alerts.unshift(alert);
    if (this.alerts.length > MAX_KEPT) this.alerts.length = MAX_KEPT;
    this.bus.emit('alertRaised', alert);
    try {
      this.deliver(alert);
    } catch {
      // A failing channel must never block the caller (trading, supervision).
    }
    return alert;
  }

  list(): Alert[] {
    return this.alerts.slice();
  }

  acknowledge(id: string): boolean {
    const alert = this.alerts.find((a) => a.id === id);
    if (!alert) return false;
    alert.acknowledged = true;
    this.bus.emit('alertAcknowledged', { id });
    return true;
  }
}
