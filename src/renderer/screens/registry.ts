import type { ComponentType } from 'react';
import type { ScreenId } from '../stores/navigation.js';
import { BacktestsScreen } from './BacktestsScreen.js';
import { AllocationScreen } from './AllocationScreen.js';
import { CompareScreen } from './CompareScreen.js';
import { DashboardScreen } from './DashboardScreen.js';
import { DataScreen } from './DataScreen.js';
import { InstancesScreen } from './InstancesScreen.js';
import { LogsScreen } from './LogsScreen.js';
import { SettingsScreen } from './SettingsScreen.js';
import { TradesScreen } from './TradesScreen.js';

/**
 * The screens the navigation lists, in order: Alt+<position> and "g" then `key` open them.
 * A new screen (Compare, Logs, Trades, Data, Settings) is one entry here plus its id in
 * navigation.ts; screens that do not exist yet are not listed.
 */
export interface ScreenDef {
  readonly id: ScreenId;
  readonly label: string;
  /** The letter after "g". */
  readonly key: string;
  readonly description: string;
  readonly Component: ComponentType;
}

export const SCREENS: readonly ScreenDef[] = [
  {
    id: 'instances',
    label: 'Instances',
    key: 'i',
    description: 'every variant, its process and its commands',
    Component: InstancesScreen,
  },
  {
    id: 'dashboard',
    label: 'Dashboard',
    key: 'd',
    description: "one variant's K-line, MACD and TD signals, live",
    Component: DashboardScreen,
  },
  {
    id: 'logs',
    label: 'Logs',
    key: 'l',
    description: 'every log file: pages, level filter, search, jump to time, live tail',
    Component: LogsScreen,
  },
  {
    id: 'trades',
    label: 'Trades',
    key: 't',
    description: 'every fill, filtered and paged; win rate, PnL, drawdown, Sharpe; CSV export',
    Component: TradesScreen,
  },
  {
    id: 'compare',
    label: 'Compare',
    key: 'c',
    description: 'variants side by side (e.g. 15m and 30m of one product), crosshair and time range linked',
    Component: CompareScreen,
  },
  {
    id: 'allocation',
    label: 'Allocation',
    key: 'f',
    description: 'allocation groups: funds, use against the limits per symbol, blocked trades, rebalances, use over time',
    Component: AllocationScreen,
  },
  {
    id: 'backtests',
    label: 'Backtests',
    key: 'k',
    description: 'backtest jobs: new job, queue with progress/pause/cancel, history, results, compare, sweeps',
    Component: BacktestsScreen,
  },
  {
    id: 'data',
    label: 'Data',
    key: 'b',
    description: 'bars in the store (count, first, last), gaps inside sessions, import a CSV/JSON file',
    Component: DataScreen,
  },
  {
    id: 'settings',
    label: 'Settings',
    key: 's',
    description: 'bar source (test connection), demo, variants, supervisor; saved for the next start',
    Component: SettingsScreen,
  },
];
