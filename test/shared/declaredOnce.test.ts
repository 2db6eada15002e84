import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_LEVELS } from '../../src/shared/alertLevels.js';
import { alertSchema } from '../../src/shared/api.js';
import { alertMinLevelSchema } from '../../src/shared/config.js';
import { backtestTradeSchema } from '../../src/shared/backtest.js';
import { tradeSchema } from '../../src/shared/contract/trades.js';
import { DEFAULT_SIGNAL_PARAMS, signalParamsSchema } from '../../src/shared/signalParams.js';
import { tradeRowSchema } from '../../src/shared/snapshot.js';
import { journalTradeOf, journalTradeSchema, tradeFillOf, tradeFillSchema } from '../../src/shared/trade.js';
import { macdTdConfigSchema } from '../../src/shared/strategyConfig.js';
import { fromWorkerSchema, workerAlertSchema } from '../../src/shared/workerProtocol.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The files under src/ whose text matches `pattern`, relative to the project. */
function declaredIn(pattern: RegExp): string[] {
  return sources(join(root, 'src'))
    .filter((f) => pattern.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
}

describe('each record is declared once, in src/shared', () => {
  it('alert levels: one list, which the API, the worker protocol and the channel settings all use', () => {
    // The log levels (DEBUG first) are a record of their own.
    expect(declaredIn(/(?<!'DEBUG',\s*)'INFO',\s*'WARNING',\s*'ERROR',\s*'CRITICAL'/)).toEqual(['src/shared/alertLevels.ts']);
    expect(declaredIn(/(?<!'DEBUG'\s*\|\s*)'INFO'\s*\|\s*'WARNING'\s*\|\s*'ERROR'\s*\|\s*'CRITICAL'/)).toEqual([]);
    for (const schema of [alertSchema.shape.level, alertMinLevelSchema, workerAlertSchema.shape.level]) expect(schema.options).toEqual([...ALERT_LEVELS]);
    for (const level of ALERT_LEVELS) expect(fromWorkerSchema.safeParse({ type: 'alert', level, title: 't', message: 'm' }).success, level).toBe(true);
  });

  it('signal parameters: one schema; core has no copy of its fields or defaults', () => {
    expect(declaredIn(/interface SignalParams\b|signalParamsSchema = |DEFAULT_SIGNAL_PARAMS[^=\n]*= (?!Object\.freeze\(signalParamsSchema)/)).toEqual(['src/shared/signalParams.ts']);
    expect(macdTdConfigSchema.shape.signal.unwrap()).toBe(signalParamsSchema);
    expect(DEFAULT_SIGNAL_PARAMS).toEqual(signalParamsSchema.parse({}));
    // Callers import the record from shared, not through a module that passes it on.
    expect(declaredIn(/export type \{[^}]*\bSignalParams\b[^}]*\} from/)).toEqual([]);
  });

  it('the trade row: one record; the journal, API, snapshot and backtest rows extend it', () => {
    // A fill's fields spelled out as an object (schema or interface) appear in one file only.
    expect(declaredIn(/vtSymbol:[^,\n]*[,;]\s*side:[^,\n]*[,;]\s*offset:[^,\n]*[,;]\s*price:/)).toEqual(['src/shared/trade.ts']);
    const fillKeys = Object.keys(tradeFillSchema.shape).sort();
    expect(backtestTradeSchema).toBe(tradeFillSchema);
    expect(Object.keys(tradeRowSchema.shape).sort()).toEqual(fillKeys);
    expect(Object.keys(journalTradeSchema.shape).sort()).toEqual([...fillKeys, 'tradingDay', 'variant'].sort());
    expect(Object.keys(tradeSchema.shape).sort()).toEqual([...fillKeys, 'datetime', 'tradingDay', 'variant'].sort());
  });

  it('one conversion takes the fill out of a richer row, for the journal and for backtests alike', () => {
    const brokerRow = {
      id: 't1', orderId: 'o1', vtSymbol: 'rb2505.SHFE', side: 'sell' as const, offset: 'close' as const,
      price: 3500, volume: 2, time: 1_700_000_000, commission: 1.5, pnl: 120, tag: 'exit', role: null,
    };
    const fill = tradeFillOf(brokerRow);
    expect(Object.keys(fill).sort()).toEqual(Object.keys(tradeFillSchema.shape).sort());
    expect(tradeFillSchema.strict().parse(fill)).toEqual(fill);
    const journalled = journalTradeOf(brokerRow, 'v1', '2023-11-15');
    expect(journalTradeSchema.strict().parse(journalled)).toEqual({ ...fill, variant: 'v1', tradingDay: '2023-11-15' });
    expect(tradeFillOf(journalled)).toEqual(fill);
  });
});

describe('the form and badge pieces the screens share are written once, in src/renderer/components', () => {
  it('FieldMessages and LevelBadge', () => {
    expect(declaredIn(/function FieldMessages\b/)).toEqual(['src/renderer/components/FieldMessages.tsx']);
    expect(declaredIn(/function LevelBadge\b/)).toEqual(['src/renderer/components/LevelBadge.tsx']);
  });
});
