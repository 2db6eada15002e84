import { events, type EventName, type EventPayload } from '../../shared/api.js';

type Listener<E extends EventName> = (payload: EventPayload<E>) => void;
type AnyListener = (name: EventName, payload: unknown) => void;

/** The contract's events inside the main process; hosts forward them to their clients. */
export class EventBus {
  private readonly listeners = new Map<EventName, Set<(p: unknown) => void>>();
  private readonly all = new Set<AnyListener>();

  emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    // Validating here keeps a malformed event from ever reaching a client.
    const checked = events[name].parse(payload) as EventPayload<E>;
    for (const l of this.listeners.get(name) ?? []) l(checked);
    for (const l of this.all) l(name, checked);
  }

  on<E extends EventName>(name: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    const l = listener as (p: unknown) => void;
    set.add(l);
    return () => set.delete(l);
  }

  /** Every event, for a host that forwards them all (WebSocket, SSE, webContents). */
  onAny(listener: AnyListener): () => void {
    this.all.add(listener);
    return () => this.all.delete(listener);
  }
}
