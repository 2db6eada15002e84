import { beforeEach, describe, expect, it } from 'vitest';
import { pickInstrument, productContractsOf } from '../../src/renderer/lib/instruments.js';
import { useVariants } from '../../src/renderer/stores/variants.js';
import type { InstrumentUpdate, VariantSummary } from '../../src/shared/api.js';
import { signalStateSchema, snapshotSchema } from '../../src/shared/snapshot.js';

const quiet = signalStateSchema.parse({});
const bull = signalStateSchema.parse({ emaState: 'bull' });

function instrument(vtSymbol: string, signals = quiet): InstrumentUpdate {
  return { vtSymbol, windowMinutes: 15, recent: [], forming: null, marks: [], signals, lastBarAt: null, barCount: 0 };
}

function summary(variant: string, vtSymbol: string | null): VariantSummary {
  return {
    variant,
    strategy: 'macd-td',
    status: 'running',
    pid: 1,
    updatedAt: '2026-01-05T09:00:00.000Z',
    lastBarAt: null,
    vtSymbol,
    windowMinutes: 15,
    source: 'simulated',
    restarts: 0,
    external: false,
    halted: false,
    message: null,
  };
}

describe("a variant's products and active contracts", () => {
  it('reads each product and its contract from the instruments the variant publishes', () => {
    expect(productContractsOf([{ vtSymbol: 'm2609.DCE' }, { vtSymbol: 'rb2610.SHFE' }], 'rb.SHFE')).toEqual([
      { product: 'm', contract: 'm2609.DCE' },
      { product: 'rb', contract: 'rb2610.SHFE' },
    ]);
  });

  it("the worker's product → contract map wins: after a roll that keeps the old position, both contracts publish, one is active", () => {
    const both = [{ vtSymbol: 'rb2605.SHFE' }, { vtSymbol: 'rb2610.SHFE' }, { vtSymbol: 'm2609.DCE' }];
    expect(productContractsOf(both, 'rb.SHFE', { rb: 'rb2610.SHFE', m: 'm2609.DCE' })).toEqual([
      { product: 'm', contract: 'm2609.DCE' },
      { product: 'rb', contract: 'rb2610.SHFE' },
    ]);
    expect(productContractsOf(both.slice(2), 'm.DCE', {})).toEqual([{ product: 'm', contract: 'm2609.DCE' }]);
  });

  it('before any instrument: the configured contract, or a product named alone with no contract yet', () => {
    expect(productContractsOf(undefined, 'rb2610.SHFE')).toEqual([{ product: 'rb', contract: 'rb2610.SHFE' }]);
    expect(productContractsOf([], 'rb.SHFE')).toEqual([{ product: 'rb', contract: null }]);
    expect(productContractsOf(undefined, null)).toEqual([]);
  });
});

describe('the instrument a dashboard shows', () => {
  const list = [{ vtSymbol: 'm2609.DCE' }, { vtSymbol: 'rb2610.SHFE' }];
  it('is the chosen one, else the first', () => {
    expect(pickInstrument(list, 'rb2610.SHFE')?.vtSymbol).toBe('rb2610.SHFE');
    expect(pickInstrument(list, null)?.vtSymbol).toBe('m2609.DCE');
    expect(pickInstrument(list, 'i2609.DCE')?.vtSymbol).toBe('m2609.DCE');
    expect(pickInstrument([], 'rb2610.SHFE')).toBeUndefined();
  });

  it("follows its product to the new contract after a roll", () => {
    expect(pickInstrument(list, 'rb2605.SHFE')?.vtSymbol).toBe('rb2610.SHFE');
  });
});

describe('useVariants: instruments per variant', () => {
  beforeEach(() => useVariants.setState({ summaries: {}, order: [], instruments: {}, chosenInstruments: {} }));

  it('keeps every instrument of an update with its own signals, and the choice per variant', () => {
    const store = useVariants.getState();
    store.applyUpdate({ summary: summary('multi', 'm9999.SIM'), instruments: [instrument('m9999.SIM'), instrument('rb9999.SIM', bull)] }, 1);
    expect(useVariants.getState().instruments['multi']?.map((i) => [i.vtSymbol, i.signals.emaState])).toEqual([
      ['m9999.SIM', 'neutral'],
      ['rb9999.SIM', 'bull'],
    ]);
    store.chooseInstrument('multi', 'rb9999.SIM');
    expect(useVariants.getState().chosenInstruments).toEqual({ multi: 'rb9999.SIM' });
    // An update without instruments (no snapshot yet) does not forget them.
    store.applyUpdate({ summary: summary('multi', 'm9999.SIM'), instruments: [] }, 2);
    expect(useVariants.getState().instruments['multi']).toHaveLength(2);
  });

  it('takes a snapshot\'s instruments only for a variant no update has described', () => {
    const snapshot = snapshotSchema.parse({
      version: 1,
      variant: 'multi',
      strategy: 'macd-td',
      status: 'running',
      source: 'simulated',
      updatedAt: '2026-01-05T09:00:00.000Z',
      instruments: [{ vtSymbol: 'm9999.SIM', windowMinutes: 15, bars: [] }],
    });
    useVariants.getState().seedInstruments(snapshot);
    expect(useVariants.getState().instruments['multi']?.map((i) => i.vtSymbol)).toEqual(['m9999.SIM']);
    useVariants.getState().applyUpdate({ summary: summary('multi', 'm9999.SIM'), instruments: [instrument('m9999.SIM'), instrument('rb9999.SIM')] }, 1);
    useVariants.getState().seedInstruments(snapshot);
    expect(useVariants.getState().instruments['multi']?.map((i) => i.vtSymbol)).toEqual(['m9999.SIM', 'rb9999.SIM']);
  });
});
