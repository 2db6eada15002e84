import type { ComponentType } from 'react';
import type { ScreenId } from '../stores/navigation.js';
import { DashboardScreen } from './DashboardScreen.js';
import { InstancesScreen } from './InstancesScreen.js';

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
];
