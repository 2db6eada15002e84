import { ApiError } from '../../../shared/api.js';
import type { AllocationGroupConfig, AllocationHistory, AllocationStatus, RebalanceRecord, UsageSample } from '../../../shared/allocation.js';
import type { allocationEntries } from '../../../shared/contract/allocation.js';
import type { FromWorker, ToWorker } from '../../../shared/workerProtocol.js';
import type { ApiHandlers } from '../../../shared/api.js';
import type { RaiseAlert } from '../alertCenter.js';
import type { EventBus } from '../eventBus.js';
import { AllocationAuthority, type AllocationEvent } from './allocationAuthority.js';

type AllocationHandlers = Pick<ApiHandlers, keyof typeof allocationEntries>;

export interface AllocationServiceOptions {
  groups: readonly AllocationGroupConfig[];
  bus?: EventBus;
  alert?: (alert: RaiseAlert) => void;
  /** A line for main.log (the periodic status line). */
  log?: (line: string, context: Record<string, unknown>) => void;
  statusLogMinutes?: number;
  clock?: () => number;
  onEvent?: (group: string, event: AllocationEvent) => void;
}

/** Usage samples kept per group for the screen's chart, and how often one is taken while use changes. */
const SAMPLES_KEPT = 2_000;
const SAMPLE_EVERY_MS = 1_000;
/** Live updates per group at most this often: a burst of grants is one event. */
const EMIT_EVERY_MS = 250;

/**
 * The allocator authorities of every configured group, as main runs them: answers the workers'
 * allocation messages, serves the contract's allocation queries, emits `allocationUpdated`, and
 * writes the periodic status line (use per symbol) to main.log.
 */
export class AllocationService {
  private readonly authorities = new Map<string, AllocationAuthority>();
  private readonly samples = new Map<string, UsageSample[]>();
  private readonly rebalances = new Map<string, RebalanceRecord[]>();
  private readonly emitTimers = new Map<string, NodeJS.Timeout>();
  private statusTimer: NodeJS.Timeout | null = null;
  private readonly clock: () => number;
  private readonly listeners = new Set<(group: string, event: AllocationEvent) => void>();

  constructor(private readonly opts: AllocationServiceOptions) {
    this.clock = opts.clock ?? Date.now;
    for (const config of opts.groups) {
      const authority = new AllocationAuthority(config, {
        clock: this.clock,
        ...(opts.alert ? { alert: opts.alert } : {}),
        onEvent: (e) => {
          opts.onEvent?.(config.name, e);
          for (const listener of this.listeners) listener(config.name, e);
          if (e.kind !== 'deny') this.sample(config.name, false);
          this.scheduleEmit(config.name);
        },
        onRebalance: (r) => this.rebalances.get(config.name)?.push(r),
      });
      this.authorities.set(config.name, authority);
      this.samples.set(config.name, []);
      this.rebalances.set(config.name, []);
      this.sample(config.name, true);
    }
  }

  start(): void {
    if (this.authorities.size === 0 || this.statusTimer) return;
    const every = (this.opts.statusLogMinutes ?? 5) * 60_000;
    this.statusTimer = setInterval(() => this.logStatus(), every);
    this.statusTimer.unref();
  }

  stop(): void {
    if (this.statusTimer) clearInterval(this.statusTimer);
    this.statusTimer = null;
    for (const t of this.emitTimers.values()) clearTimeout(t);
    this.emitTimers.clear();
  }

  /** Every decision of every group, in the order taken (a grant log); returns the unsubscribe. */
  onDecision(listener: (group: string, event: AllocationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  authority(group: string): AllocationAuthority | undefined {
    return this.authorities.get(group);
  }

  /** The group a variant trades in, if any (members of the group's settings). */
  groupOf(variant: string): AllocationAuthority | undefined {
    return [...this.authorities.values()].find((a) => a.config.members.includes(variant));
  }

  /**
   * A worker's allocation message; returns true when it was one. Requests are answered at once,
   * in the order they arrive: the check-and-reserve never waits on anything.
   */
  handleWorkerMessage(variant: string, message: FromWorker, reply: (m: ToWorker) => void): boolean {
    if (message.type !== 'allocationRequest' && message.type !== 'allocationRelease' && message.type !== 'allocationReport') return false;
    const authority = this.authorities.get(message.group);
    if (message.type === 'allocationRequest') {
      const answer = authority
        ? authority.request(variant, message.symbol, message.amount)
        : { granted: false, reason: `no allocation group named ${message.group}` };
      reply({ type: 'allocationDecision', requestId: message.requestId, ...answer });
    } else if (authority && message.type === 'allocationRelease') {
      authority.release(variant, message.symbol, message.amount);
    } else if (authority && message.type === 'allocationReport') {
      authority.report(variant, message.usage);
    }
    return true;
  }

  workerExited(variant: string): void {
    for (const a of this.authorities.values()) a.workerExited(variant);
  }

  /** The periodic status line: every group's use, per symbol. */
  logStatus(): void {
    for (const a of this.authorities.values()) {
      const s = a.status();
      const perSymbol = s.symbols.map((x) => `${x.symbol} ${x.usedAmount.toFixed(2)}/${x.allocatedAmount.toFixed(2)}`).join(', ');
      this.opts.log?.(
        `allocation ${s.group}: ${s.globalUsed.toFixed(2)} used of ${(s.totalFunds * s.globalMaxUsage).toFixed(2)} (${s.strategy}); ${perSymbol}; blocked ${s.blockedTrades}, rebalances ${s.rebalances}`,
        { group: s.group, globalUsed: s.globalUsed, symbols: Object.fromEntries(s.symbols.map((x) => [x.symbol, x.usedAmount])) },
      );
    }
  }

  status(group?: string): AllocationStatus {
    return this.pick(group).status();
  }

  history(group?: string): AllocationHistory {
    const a = this.pick(group);
    return { group: a.name, rebalances: (this.rebalances.get(a.name) ?? []).slice(), usage: (this.samples.get(a.name) ?? []).slice() };
  }

  handlers(): AllocationHandlers {
    return {
      listAllocationGroups: () => Promise.resolve([...this.authorities.keys()]),
      getAllocation: ({ group }) => Promise.resolve(this.status(group)),
      getAllocationHistory: ({ group }) => Promise.resolve(this.history(group)),
    };
  }

  private pick(group: string | undefined): AllocationAuthority {
    const a = group === undefined ? this.authorities.values().next().value : this.authorities.get(group);
    if (!a) {
      throw new ApiError(404, group === undefined ? 'no allocation group is configured (Settings → Allocation groups)' : `no allocation group named ${group}`);
    }
    return a;
  }

  private sample(group: string, force: boolean): void {
    const a = this.authorities.get(group);
    const list = this.samples.get(group);
    if (!a || !list) return;
    const time = Math.floor(this.clock() / 1000);
    const last = list.at(-1);
    const s = a.status();
    const sample: UsageSample = { time, globalUsed: s.globalUsed, used: Object.fromEntries(s.symbols.map((x) => [x.symbol, x.usedAmount])) };
    // One point per second: the latest use within that second replaces the earlier one.
    if (last && last.time === time) list[list.length - 1] = sample;
    else if (force || !last || (time - last.time) * 1000 >= SAMPLE_EVERY_MS) list.push(sample);
    if (list.length > SAMPLES_KEPT) list.splice(0, list.length - SAMPLES_KEPT);
  }

  private scheduleEmit(group: string): void {
    const bus = this.opts.bus;
    if (!bus || this.emitTimers.has(group)) return;
    this.emitTimers.set(
      group,
      setTimeout(() => {
        this.emitTimers.delete(group);
        const a = this.authorities.get(group);
        const sample = this.samples.get(group)?.at(-1);
        if (a && sample) bus.emit('allocationUpdated', { ...a.status(), sample });
      }, EMIT_EVERY_MS),
    );
  }
}
