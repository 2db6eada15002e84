import type { KestrelApi, Unsubscribe } from '../shared/api.js';
import { useAlerts } from './stores/alerts.js';
import { useBacktests } from './stores/backtests.js';
import { useConnection, type ConnectionState } from './stores/connection.js';
import { useTrading } from './stores/trading.js';
import { useVariants } from './stores/variants.js';

/**
 * Keeps the stores fed from the API: the variant list once and then live from events, plus
 * a slow re-list so that a status the host changes without an event (a crash noticed by the
 * supervisor, a variant that went stale) still reaches the screen.
 */
export const RELIST_MS = 5_000;

export function startSync(
  api: KestrelApi,
  onConnectionChange: (listener: (state: ConnectionState) => void) => Unsubscribe,
): Unsubscribe {
  let disposed = false;
  let listing = false;

  const relist = async (): Promise<void> => {
    if (listing || disposed) return;
    listing = true;
    try {
      const list = await api.listVariants({});
      if (!disposed) useVariants.getState().replaceAll(list, Date.now());
    } catch (error) {
      if (!disposed) useVariants.getState().setLoadError(error instanceof Error ? error.message : String(error));
    } finally {
      listing = false;
    }
  };

  const refreshStatus = async (): Promise<void> => {
    try {
      const status = await api.getStatus({});
      if (!disposed) useConnection.getState().setStatus(status);
    } catch (error) {
      if (!disposed) useConnection.getState().setStatusError(error instanceof Error ? error.message : String(error));
    }
  };

  const loadAlerts = async (): Promise<void> => {
    try {
      const list = await api.listAlerts({});
      if (!disposed) useAlerts.getState().replaceAll(list);
    } catch (error) {
      if (!disposed) useAlerts.getState().setLoadError(error instanceof Error ? error.message : String(error));
    }
  };

  const offRaised = api.events.alertRaised((alert) => useAlerts.getState().raised(alert, Date.now()));
  const offAcknowledged = api.events.alertAcknowledged(({ id }) => useAlerts.getState().acknowledged(id));
  const offUpdated = api.events.variantUpdated((update) => {
    useVariants.getState().applyUpdate(update, Date.now());
    useTrading.getState().applyUpdate(update);
  });
  const offRemoved = api.events.variantRemoved(({ variant }) => {
    useVariants.getState().remove(variant);
    useTrading.getState().remove(variant);
  });
  const offBacktestProgress = api.events.backtestProgress((p) => useBacktests.getState().progressed(p));
  const offBacktestUpdated = api.events.backtestUpdated((run) => useBacktests.getState().updated(run));
  let previous: ConnectionState | null = null;
  const offConnection = onConnectionChange((state) => {
    useConnection.getState().setState(state, Date.now());
    // Events were missed while the stream was down: catch up from the queries.
    if (state === 'open' && previous === 'closed') {
      void relist();
      void refreshStatus();
      void loadAlerts();
    }
    if (state !== 'connecting') previous = state;
  });

  void relist();
  void refreshStatus();
  void loadAlerts();
  const timer = setInterval(() => void relist(), RELIST_MS);

  return () => {
    disposed = true;
    clearInterval(timer);
    offUpdated();
    offRemoved();
    offRaised();
    offAcknowledged();
    offConnection();
    offBacktestProgress();
    offBacktestUpdated();
  };
}
