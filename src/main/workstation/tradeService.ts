import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { statisticsPeriodRows, statisticsTotals, tradeStatistics } from '../../core/statistics.js';
import type { TradingCalendar } from '../../core/market/tradingCalendar.js';
import { TradingJournal, type TradeFilter } from '../../io/tradingJournal.js';
import { ApiError, type ApiHandlers } from '../../shared/api.js';
import type {
  StatisticsPeriodName,
  Trade,
  TradeFilterParams,
  TradePage,
  TradeStatisticsResult,
  TradeSymbols,
} from '../../shared/contract/trades.js';
import { formatDatetime, parseDatetime } from '../../shared/time.js';
import { journalTradeOf, type JournalTrade } from '../../shared/trade.js';

export interface TradeServiceOptions {
  /** `<data>/kestrel.db`, where the workers journal their fills. */
  dbPath: string;
  /** The calendar whose trading days the statistics' periods follow (core's default otherwise). */
  calendar?: TradingCalendar;
}

const SECONDS_PER_DAY_LAST = 86_399;

/** An inclusive bound from 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS]' (validated by the contract). */
function boundOf(text: string, edge: 'from' | 'to'): number {
  if (text.length === 10) {
    const day = parseDatetime(`${text} 00:00:00`);
    if (day === null) throw new ApiError(400, `${edge}: ${text} is not a date`);
    return edge === 'to' ? day + SECONDS_PER_DAY_LAST : day;
  }
  const time = parseDatetime(text);
  if (time === null) throw new ApiError(400, `${edge}: ${text} is not a date and time`);
  // 'HH:MM' as an upper bound means the whole minute.
  return edge === 'to' && text.length === 16 ? time + 59 : time;
}

export function journalFilterOf(params: TradeFilterParams): TradeFilter {
  const from = params.from === undefined ? undefined : boundOf(params.from, 'from');
  const to = params.to === undefined ? undefined : boundOf(params.to, 'to');
  if (from !== undefined && to !== undefined && from > to) {
    throw new ApiError(400, `from ${params.from ?? ''} is after to ${params.to ?? ''}`);
  }
  return { variant: params.variant, vtSymbol: params.symbol, side: params.side, from, to };
}

function wireTrade(t: JournalTrade): Trade {
  return { ...journalTradeOf(t, t.variant, t.tradingDay), datetime: formatDatetime(t.time) };
}

/**
 * The trades area of the API: reads the journal the strategy workers write (`trades` in
 * kestrel.db). It only reads: WAL lets the workers commit while a page or a statistics run is
 * being read, and each answer is read in one transaction so its counts and rows agree. The
 * statistics are core's tradeStatistics on the filtered rows, passed through unchanged.
 */
export class TradeService {
  private journal: TradingJournal | null = null;
  private closed = false;

  constructor(private readonly opts: TradeServiceOptions) {}

  handlers(): Pick<ApiHandlers, 'listTrades' | 'listTradeSymbols' | 'tradeStatistics'> {
    return {
      listTrades: (params) => Promise.resolve(this.listTrades(params, params.page, params.pageSize)),
      listTradeSymbols: () => Promise.resolve(this.symbols()),
      tradeStatistics: (params) => Promise.resolve(this.statistics(params, params.period, params.capital)),
    };
  }

  close(): void {
    this.closed = true;
    this.journal?.close();
    this.journal = null;
  }

  listTrades(params: TradeFilterParams, page: number, pageSize: number): TradePage {
    const filter = journalFilterOf(params);
    const journal = this.open();
    return journal.consistentRead(() => {
      const total = journal.countTrades(filter);
      const rows = journal.tradesNewestFirst({ ...filter, limit: pageSize, offset: (page - 1) * pageSize });
      return { rows: rows.map(wireTrade), total, page, pageSize };
    });
  }

  symbols(): TradeSymbols {
    const journal = this.open();
    return journal.consistentRead(() => ({ variants: journal.tradeVariants(), symbols: journal.tradeSymbols() }));
  }

  statistics(params: TradeFilterParams, period: StatisticsPeriodName, capital: number | undefined): TradeStatisticsResult {
    const filter = journalFilterOf(params);
    const rows = this.open().tradesForStatistics(filter);
    const s = tradeStatistics(rows, { period, initialEquity: capital, calendar: this.opts.calendar });
    return {
      period: s.period,
      periodsPerYear: s.periodsPerYear,
      capital: capital ?? null,
      totals: statisticsTotals(s, rows.length),
      periods: statisticsPeriodRows(s),
      bySymbol: s.bySymbol.map((b) => ({ ...b })),
      equity: s.equityCurve.map((p) => ({ time: p.time, equity: p.equity })),
    };
  }

  /**
   * Opened on first use: the data directory may not exist when the workstation is built, and
   * until a worker has journalled a fill there is nothing to read anyway.
   */
  private open(): TradingJournal {
    if (this.closed) throw new ApiError(503, 'the workstation is shutting down');
    if (this.journal) return this.journal;
    if (!existsSync(dirname(this.opts.dbPath))) throw new ApiError(503, `the data directory ${dirname(this.opts.dbPath)} does not exist yet`);
    try {
      this.journal = TradingJournal.open(this.opts.dbPath);
    } catch (err) {
      throw new ApiError(503, `the trade journal ${this.opts.dbPath} cannot be opened: ${(err as Error).message}`);
    }
    return this.journal;
  }
}
