import { randomUUID } from 'node:crypto';
import type { ParentChannel } from './parentChannel.js';

export interface AllocationAnswer {
  granted: boolean;
  reason: string | null;
}

export interface AllocationClientOptions {
  group: string;
  variant: string;
  /** A request unanswered for this long is a denial: a worker that cannot reach the authority does not buy. */
  timeoutMs: number;
}

interface Pending {
  symbol: string;
  amount: number;
  resolve: (answer: AllocationAnswer) => void;
  timer: NodeJS.Timeout;
}

/**
 * The worker's side of the allocator authority (the risk gate's plug point for issue 8's seam):
 * asks main before every buy over the worker's own IPC channel, gives funds back on a cancel or
 * a sell, and reports its whole use after restore. Unreachable main = no buy, and one alert
 * until main answers again.
 */
export class AllocationClient {
  private readonly pending = new Map<string, Pending>();
  private unreachableAlerted = false;
  private timeouts = 0;

  constructor(
    private readonly channel: ParentChannel,
    private readonly opts: AllocationClientOptions,
  ) {
    channel.onMessage((m) => {
      if (m.type !== 'allocationDecision') return;
      const p = this.pending.get(m.requestId);
      if (!p) {
        // Answered after the timeout turned it into a denial: the worker will not buy, so the
        // reservation made for it must not stay held.
        const late = this.timedOut.get(m.requestId);
        this.timedOut.delete(m.requestId);
        if (late && m.granted) this.release(late.symbol, late.amount, 'cancel');
        return;
      }
      this.pending.delete(m.requestId);
      clearTimeout(p.timer);
      this.unreachableAlerted = false;
      p.resolve({ granted: m.granted, reason: m.reason });
    });
  }

  /** Requests turned into denials by the timeout, until main's answer (if any) arrives. */
  private readonly timedOut = new Map<string, { symbol: string; amount: number }>();

  /** Check-and-reserve `amount` of quote currency for a buy of `symbol`. */
  requestBuy(symbol: string, amount: number): Promise<AllocationAnswer> {
    const requestId = randomUUID();
    return new Promise<AllocationAnswer>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        this.timeouts += 1;
        this.timedOut.set(requestId, { symbol, amount });
        if (!this.unreachableAlerted) {
          this.unreachableAlerted = true;
          this.channel.send({
            type: 'alert',
            level: 'WARNING',
            title: 'Allocator unreachable: buys refused',
            message: `${this.opts.variant}: no answer from the allocation group ${this.opts.group} within ${this.opts.timeoutMs} ms; buys are refused until it answers`,
            key: `${this.opts.variant}:allocator-unreachable`,
          });
        }
        resolve({ granted: false, reason: `the allocator did not answer within ${this.opts.timeoutMs} ms` });
      }, this.opts.timeoutMs);
      this.pending.set(requestId, { symbol, amount, resolve, timer });
      this.channel.send({ type: 'allocationRequest', requestId, group: this.opts.group, symbol, amount });
    });
  }

  /** A resting buy cancelled (cause 'cancel') or a position reduced by a sell, at its cost ('sell'). */
  release(symbol: string, amount: number, cause: 'cancel' | 'sell'): void {
    if (amount > 0) this.channel.send({ type: 'allocationRelease', group: this.opts.group, symbol, amount, cause });
  }

  /** After restore: everything this worker uses, per symbol; main replaces what it held for it. */
  report(usage: { symbol: string; amount: number }[]): void {
    this.channel.send({ type: 'allocationReport', group: this.opts.group, usage });
  }

  /** Requests that timed out (each was a denial). */
  timeoutCount(): number {
    return this.timeouts;
  }
}
