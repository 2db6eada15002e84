/**
 * The Trades screen's queries on a journal of 100,000 fills (3 variants × 2 symbols, half of
 * them closing): a page (newest first) with its total, unfiltered and filtered, a deep page,
 * the filter lists, and the statistics (journal read + core's tradeStatistics), each as the
 * TradeService answers it. The peer is a plain `SELECT * … ORDER BY datetime` of the same rows
 * (what reading the journal costs at all).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { TradingJournal } from '../src/io/tradingJournal.js';
import type { JournalTrade } from '../src/shared/trade.js';
import { TradeService } from '../src/main/workstation/tradeService.js';
import { parseDatetime } from '../src/shared/time.js';
import { bestOf, type BenchFigure } from './figure.js';

const FILLS = Number(process.env.KESTREL_BENCH_TRADES ?? 100_000);
const VARIANTS = ['bench-15m', 'bench-30m', 'bench-i-15m'];
const SYMBOLS = ['rb2505.SHFE', 'i2505.DCE'];

function fill(dbPath: string): void {
  const journal = TradingJournal.open(dbPath);
  const start = parseDatetime('2024-01-02 09:00:00') as number;
  let s = 7;
  const rand = (): number => ((s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  const counters = new Map<string, number>();
  let batch: JournalTrade[] = [];
  for (let i = 0; i < FILLS; i++) {
    const variant = VARIANTS[i % VARIANTS.length] as string;
    const n = (counters.get(variant) ?? 0) + 1;
    counters.set(variant, n);
    const closing = n % 2 === 0;
    const time = start + Math.floor(i / 3) * 600;
    batch.push({
      id: `${variant}-T${n}`,
      variant,
      vtSymbol: SYMBOLS[Math.floor(i / 6) % SYMBOLS.length] as string,
      side: rand() < 0.5 ? 'buy' : 'sell',
      offset: closing ? 'close' : 'open',
      price: 3500 + Math.round(rand() * 200),
      volume: 1,
      time,
      commission: 2,
      pnl: closing ? Math.round((rand() - 0.48) * 400) : null,
      tradingDay: new Date(time * 1000).toISOString().slice(0, 10),
    });
    if (batch.length === 5_000) {
      journal.commit(variant, { version: 1, state: {}, trades: batch, savedAt: new Date().toISOString() });
      batch = [];
    }
  }
  if (batch.length > 0) journal.commit('bench-15m', { version: 1, state: {}, trades: batch, savedAt: new Date().toISOString() });
  journal.close();
}

export function run(): Promise<BenchFigure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-bench-trades-'));
  try {
    const dbPath = join(dir, 'kestrel.db');
    fill(dbPath);
    const service = new TradeService({ dbPath });
    const ms = (fn: () => void, rounds = 5): number => bestOf(rounds, fn) * 1000;
    const figures: BenchFigure[] = [];
    const raw = new Database(dbPath, { readonly: true });
    const readAll = ms(() => void raw.prepare('SELECT * FROM trades ORDER BY datetime, id').all(), 3);
    raw.close();
    const peer = { name: 'SELECT * ORDER BY datetime (all rows)', value: readAll };
    figures.push({ name: `listTrades page 1 of ${FILLS.toLocaleString('en-US')}, no filter`, value: ms(() => void service.listTrades({}, 1, 100)), unit: 'ms', peer });
    figures.push({ name: 'listTrades page 1, variant filter', value: ms(() => void service.listTrades({ variant: 'bench-30m' }, 1, 100)), unit: 'ms' });
    figures.push({ name: 'listTrades page 1, symbol + side filter', value: ms(() => void service.listTrades({ symbol: 'i2505.DCE', side: 'sell' }, 1, 100)), unit: 'ms' });
    figures.push({ name: 'listTrades page 1, date range (one month)', value: ms(() => void service.listTrades({ from: '2024-03-01', to: '2024-03-31' }, 1, 100)), unit: 'ms' });
    figures.push({ name: 'listTrades last page, no filter', value: ms(() => void service.listTrades({}, Math.ceil(FILLS / 100), 100)), unit: 'ms' });
    figures.push({ name: 'listTrades export page (1000 rows), no filter', value: ms(() => void service.listTrades({}, 50, 1000)), unit: 'ms' });
    figures.push({ name: 'listTradeSymbols', value: ms(() => void service.symbols()), unit: 'ms' });
    figures.push({ name: `tradeStatistics day, all ${FILLS.toLocaleString('en-US')} fills`, value: ms(() => void service.statistics({}, 'day', undefined), 3), unit: 'ms', peer });
    figures.push({ name: 'tradeStatistics week, one variant', value: ms(() => void service.statistics({ variant: 'bench-15m' }, 'week', 1_000_000), 3), unit: 'ms' });
    const stats = service.statistics({}, 'day', undefined);
    figures.push({ name: 'tradeStatistics answer size (day, all fills)', value: JSON.stringify(stats).length / 1024, unit: 'KiB', note: `${stats.equity.length} equity points, ${stats.periods.length} periods` });
    service.close();
    return Promise.resolve(figures);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
