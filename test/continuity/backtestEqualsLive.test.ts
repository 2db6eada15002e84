/**
 * Backtest == live, on the real minutes of ../shared/data imported with the CLI as a user would:
 * `kestrel backtest` (a real CLI process, twice: byte-identical trades and statistics) against a
 * live paper variant in a real worker process that starts on an empty store and follows it while
 * the bars are written in chunks, as a recorder would. The trades must be the same fills: time,
 * price, volume, side, offset, realised PnL.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteBarStore } from '../../src/io/sqliteBarStore.js';
import { TradingJournal } from '../../src/io/tradingJournal.js';
import type { BacktestStatistics, BacktestTrade } from '../../src/shared/backtest.js';
import type { OhlcvBar } from '../../src/shared/bar.js';
import { formatDatetime } from '../../src/shared/time.js';
import { spawnCli } from '../cli/cliHarness.js';
import { startHarness, type Harness } from '../main/workstationHarness.js';
import { freshDir, waitFor } from '../helpers.js';
import { ACTIVE_PARAMS } from '../worker/runnerFixture.js';
import { asStored } from './tapeSources.js';

// KESTREL_SHARED_DATA: where ../shared/data is when the checkout sits elsewhere (a git worktree).
const sharedData = process.env.KESTREL_SHARED_DATA ?? join(import.meta.dirname, '..', '..', '..', 'shared', 'data');
const backtraderFile = join(sharedData, 'backtrader_2006-01-02-volume-min-001.txt');
const haveRealData = existsSync(backtraderFile);
if (!haveRealData) console.warn(`skipping backtest == live: ${sharedData} is absent (a fresh clone has no ../shared)`);

const VARIANT = 'bt-equals-live';
const JOB = { strategy: 'macd-td', params: ACTIVE_PARAMS, symbols: ['ESTX50.EUREX'], from: '2006-01-02', to: '2006-12-31', windowMinutes: 15 };

let harness: Harness | null = null;
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await harness?.stop();
  harness = null;
  for (const c of cleanups.splice(0)) c();
});

type Fill = Pick<BacktestTrade, 'vtSymbol' | 'side' | 'offset' | 'price' | 'volume' | 'time' | 'pnl'>;
const fillOf = (t: Fill): Fill => ({ vtSymbol: t.vtSymbol, side: t.side, offset: t.offset, price: t.price, volume: t.volume, time: t.time, pnl: t.pnl });

async function cliBacktest(dataDir: string, out: string): Promise<{ trades: BacktestTrade[]; statistics: BacktestStatistics; text: string }> {
  const config = join(dataDir, 'job.json');
  writeFileSync(config, JSON.stringify(JOB));
  const run = await spawnCli(['backtest', '--config', config, '--data-dir', dataDir, '--out', out]);
  if (run.code !== 0) throw new Error(`backtest failed (${run.code}): ${run.stderr}`);
  const text = readFileSync(out, 'utf8');
  const doc = JSON.parse(text) as { trades: BacktestTrade[]; statistics: BacktestStatistics };
  return { ...doc, text };
}

describe('backtest == live (MACD-TD on ../shared/data)', () => {
  it.skipIf(!haveRealData)('the same job twice is byte-identical; a live paper variant following the store makes the same fills', async () => {
    const src = freshDir('bt-live-src');
    cleanups.push(src.remove);
    const imported = await spawnCli([
      'import', '--file', backtraderFile, '--symbol', 'ESTX50', '--exchange', 'EUREX',
      '--columns', 'date=0,time=1,open=2,high=3,low=4,close=5,volume=6,openInterest=7', '--skip-header',
      '--data-dir', src.dir,
    ]);
    expect(imported.code).toBe(0);

    const first = await cliBacktest(src.dir, join(src.dir, 'a.json'));
    const second = await cliBacktest(src.dir, join(src.dir, 'b.json'));
    expect(first.trades.length).toBeGreaterThan(10);
    expect(JSON.stringify(second.trades)).toBe(JSON.stringify(first.trades));
    expect(JSON.stringify(second.statistics)).toBe(JSON.stringify(first.statistics));

    // The live side: the same bars, read back from the imported store.
    const reader = SqliteBarStore.open(join(src.dir, 'kestrel.db'), { readonly: true });
    const bars: OhlcvBar[] = [];
    for await (const chunk of reader.loadRange({ symbol: 'ESTX50', exchange: 'EUREX', interval: '1m' })) bars.push(...chunk);
    await reader.close();
    expect(bars).toHaveLength(30_889);

    const live = freshDir('bt-live');
    cleanups.push(live.remove);
    // An empty bar store: the variant starts with no history (degraded until its indicators settle).
    const writer = SqliteBarStore.open(join(live.dir, 'kestrel.db'));
    cleanups.push(() => void writer.close());
    harness = await startHarness({
      dataDir: live.dir,
      controlEnabled: false,
      settings: {
        demo: { enabled: false, speed: 60, seed: 1 },
        variants: [{ name: VARIANT, vtSymbol: 'ESTX50.EUREX', windowMinutes: 15, pollMs: 40, params: ACTIVE_PARAMS }],
      },
    });
    const ws = harness.workstation;
    await waitFor('the variant restored, waiting for history', () => ws.summaryOf(VARIANT).status === 'degraded', 60_000);
    const stored = asStored(bars, 'ESTX50', 'EUREX');
    // A recorder's pace, compressed: chunks of a few days, each written when the variant has read the last.
    const chunk = 4_000;
    for (let i = 0; i < stored.length; i += chunk) {
      const part = stored.slice(i, i + chunk);
      await writer.write(part);
      const last = formatDatetime(part[part.length - 1]?.time ?? 0);
      await waitFor(`the variant to read up to ${last}`, () => ws.summaryOf(VARIANT).lastBarAt === last, 60_000, 20);
    }
    expect(ws.summaryOf(VARIANT).status).toBe('running');
    await harness.stop();
    harness = null;

    const journal = TradingJournal.open(join(live.dir, 'kestrel.db'));
    const liveTrades = journal.trades({ variant: VARIANT });
    journal.close();
    expect(liveTrades.map(fillOf)).toEqual(first.trades.map(fillOf));
  }, 400_000);
});
