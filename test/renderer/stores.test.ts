import { beforeEach, describe, expect, it } from 'vitest';
import { ApiError, type VariantSummary, type VariantUpdate } from '../../src/shared/api.js';
import { describeCommandError } from '../../src/renderer/stores/commands.js';
import { detectRestart, useVariants } from '../../src/renderer/stores/variants.js';

function summary(over: Partial<VariantSummary> = {}): VariantSummary {
  return {
    variant: 'rb-15m',
    strategy: 'macd-td',
    status: 'running',
    pid: 100,
    updatedAt: '2026-01-05T09:00:00.000Z',
    lastBarAt: '2026-01-05 09:00:00',
    vtSymbol: 'rb2605.SHFE',
    windowMinutes: 15,
    source: 'sqlite',
    restarts: 0,
    external: false,
    halted: false,
    message: null,
    ...over,
  };
}

function update(s: VariantSummary): VariantUpdate {
  return { summary: s, instruments: [] };
}

describe('detectRestart', () => {
  it('flags a new process and a counted restart, not a stop followed by a start', () => {
    expect(detectRestart(undefined, summary(), 1)).toBeNull();
    expect(detectRestart(summary(), summary({ updatedAt: '2026-01-05T09:00:05.000Z' }), 1)).toBeNull();
    expect(detectRestart(summary(), summary({ pid: 101 }), 7)).toEqual({ fromPid: 100, toPid: 101, restarts: 0, at: 7 });
    expect(detectRestart(summary({ pid: null }), summary({ pid: 101, restarts: 1 }), 7)).toEqual({
      fromPid: null,
      toPid: 101,
      restarts: 1,
      at: 7,
    });
    expect(detectRestart(summary({ pid: null, status: 'stopped' }), summary({ pid: 101 }), 7)).toBeNull();
  });
});

describe('useVariants', () => {
  beforeEach(() => {
    useVariants.setState({ summaries: {}, order: [], instruments: {}, chosenInstruments: {}, snapshotSources: {}, restartNotes: {}, loaded: false, lastUpdateAt: null });
  });

  it('keeps the newer summary when a list answer is overtaken by an event', () => {
    const store = useVariants.getState();
    store.replaceAll([summary()], 1);
    store.applyUpdate(update(summary({ pid: 101, restarts: 1, updatedAt: '2026-01-05T09:00:10.000Z' })), 2);
    expect(useVariants.getState().restartNotes['rb-15m']?.toPid).toBe(101);
    // A list taken before the restart arrives late: it must not bring the old pid back.
    useVariants.getState().replaceAll([summary()], 3);
    expect(useVariants.getState().summaries['rb-15m']?.pid).toBe(101);
    expect(useVariants.getState().restartNotes['rb-15m']?.at).toBe(2);
  });

  it('appends variants first seen in an event and removes them on request', () => {
    useVariants.getState().replaceAll([summary()], 1);
    useVariants.getState().applyUpdate(update(summary({ variant: 'py-ext', external: true })), 2);
    expect(useVariants.getState().order).toEqual(['rb-15m', 'py-ext']);
    useVariants.getState().remove('py-ext');
    expect(useVariants.getState().order).toEqual(['rb-15m']);
    expect(useVariants.getState().lastUpdateAt).toBe(2);
  });
});

describe('describeCommandError', () => {
  it('names the switch a 403 is about', () => {
    expect(describeCommandError(new ApiError(403, 'control is disabled'))).toBe(
      'Refused by the host (403): control is disabled. Control commands need a host started with --allow-control.',
    );
    expect(describeCommandError(new ApiError(403, 'start the host with --allow-control'))).toBe(
      'Refused by the host (403): start the host with --allow-control.',
    );
    expect(describeCommandError(new ApiError(409, 'already running'))).toBe('Failed (409): already running');
    expect(describeCommandError(new TypeError('Failed to fetch'))).toBe('Failed: Failed to fetch');
  });
});
