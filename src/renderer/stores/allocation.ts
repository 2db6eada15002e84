import { create } from 'zustand';
import type { KestrelApi } from '../../shared/api.js';
import type { AllocationHistory, AllocationStatus, UsageSample } from '../../shared/allocation.js';
import { errorText } from './data.js';

export type AllocationApi = Pick<KestrelApi, 'listAllocationGroups' | 'getAllocation' | 'getAllocationHistory'>;

const SAMPLES_SHOWN = 2_000;

export interface AllocationState {
  groups: string[];
  selected: string | null;
  status: AllocationStatus | null;
  history: AllocationHistory | null;
  error: string | null;
  load(api: AllocationApi, group?: string): Promise<void>;
  /** A live `allocationUpdated` event: the selected group's status, and one more point on its usage chart. */
  apply(update: AllocationStatus & { sample: UsageSample }): void;
}

export const useAllocation = create<AllocationState>((set, get) => ({
  groups: [],
  selected: null,
  status: null,
  history: null,
  error: null,
  async load(api, group) {
    try {
      const groups = await api.listAllocationGroups({});
      const selected = group ?? get().selected ?? groups[0] ?? null;
      if (selected === null) {
        set({ groups, selected: null, status: null, history: null, error: null });
        return;
      }
      const [status, history] = await Promise.all([api.getAllocation({ group: selected }), api.getAllocationHistory({ group: selected })]);
      set({ groups, selected, status, history, error: null });
    } catch (err) {
      set({ error: errorText(err) });
    }
  },
  apply(update) {
    const { selected, history } = get();
    if (update.group !== selected) return;
    const { sample, ...status } = update;
    if (!history) {
      set({ status });
      return;
    }
    const usage = history.usage.slice();
    if (usage.at(-1)?.time === sample.time) usage[usage.length - 1] = sample;
    else if ((usage.at(-1)?.time ?? -Infinity) < sample.time) usage.push(sample);
    if (usage.length > SAMPLES_SHOWN) usage.splice(0, usage.length - SAMPLES_SHOWN);
    set({ status, history: { ...history, usage } });
  },
}));

/** A symbol's use as a share of its allocation, for the bars (0 when nothing is allocated). */
export function usageShare(used: number, allocated: number): number {
  if (allocated <= 0) return used > 0 ? 1 : 0;
  return used / allocated;
}
