import type { Settings, VariantConfig } from '../../shared/config.js';
import type { InstrumentUpdate, TradingUpdate } from '../../shared/liveUpdate.js';
import type { VariantStatus } from '../../shared/snapshot.js';
import type { FromWorker, MetricFamily, ToWorker, WorkerLaunch } from '../../shared/workerProtocol.js';
import type { AlertCenter } from './alertCenter.js';
import type { Host, WorkerHandle } from './host.js';

export type SupervisedState = 'stopped' | 'starting' | 'running' | 'backoff' | 'crashed';
export type BackoffPolicy = Settings['supervisor'];

export interface SupervisedInfo {
  variant: string;
  state: SupervisedState;
  /** The status the worker last reported (restoring, running, degraded, …). */
  workerStatus: VariantStatus | null;
  workerMessage: string | null;
  pid: number | null;
  restarts: number;
  lastExit: { code: number | null; signal: string | null; at: string } | null;
  /** The kill switch as last commanded; null when no command was given (the saved state decides). */
  halted: boolean | null;
}

const STOP_GRACE_MS = 5_000;

/** Messages the supervisor does not handle itself (the allocator's requests), and the worker's exits. */
export interface WorkerHooks {
  /** True when the message was handled; `reply` answers this worker. */
  message?: (message: FromWorker, reply: (m: ToWorker) => void) => boolean;
  exited?: () => void;
  /** The worker's live tail, as each batch of bars is processed. */
  live?: (tail: LiveTail) => void;
}

/** A worker's live tail (its `live` message, validated once on arrival), with the worker that sent it. */
export interface LiveTail {
  pid: number | null;
  /** When the worker cut it: the update's `updatedAt`, so a screen knows which book it shows. */
  updatedAt: string;
  instruments: InstrumentUpdate[];
  trading: TradingUpdate;
}

/**
 * Keeps one variant's worker alive: restarts it after a crash with exponential backoff
 * (capped), and gives up, marking the variant `crashed` and alerting, once it has crashed
 * `maxCrashes` times within `crashWindowMs` — a worker that cannot start must not be
 * restarted forever.
 */
export class VariantSupervisor {
  private handle: WorkerHandle | null = null;
  private state: SupervisedState = 'stopped';
  private workerStatus: VariantStatus | null = null;
  private workerMessage: string | null = null;
  private restarts = 0;
  private crashTimes: number[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  private stopWaiters: (() => void)[] = [];
  private lastExit: SupervisedInfo['lastExit'] = null;
  private wantRunning = false;
  /** The kill switch as last set by a command; null until one is given (the state decides). */
  private halted: boolean | null = null;
  /** The running worker's own series as it last sent them; null while no worker runs. */
  private metricFamilies: MetricFamily[] | null = null;

  constructor(
    readonly config: VariantConfig,
    private readonly launch: WorkerLaunch,
    private readonly host: Host,
    private readonly policy: BackoffPolicy,
    private readonly alerts: AlertCenter,
    private readonly onChange: (info: SupervisedInfo) => void,
    private readonly clock: () => number = Date.now,
    private readonly hooks: WorkerHooks = {},
  ) {}

  info(): SupervisedInfo {
    return {
      variant: this.config.name,
      state: this.state,
      workerStatus: this.workerStatus,
      workerMessage: this.workerMessage,
      pid: this.handle?.pid ?? null,
      restarts: this.restarts,
      lastExit: this.lastExit,
      halted: this.halted,
    };
  }

  start(): void {
    this.wantRunning = true;
    if (this.handle) return;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
    }
    if (this.state === 'crashed') this.crashTimes = [];
    this.spawn();
  }

  /** The live worker's series (process metrics, bar latency, restore duration); null when none runs. */
  workerMetrics(): readonly MetricFamily[] | null {
    return this.metricFamilies;
  }

  /** Asks the worker to stop gracefully (it saves and writes its last snapshot); kills it after a grace period. */
  async stop(): Promise<void> {
    this.wantRunning = false;
    if (this.restartTimer) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.setState('stopped');
    }
    const handle = this.handle;
    if (!handle) {
      if (this.state !== 'crashed') this.setState('stopped');
      return;
    }
    const gone = new Promise<void>((resolve) => this.stopWaiters.push(resolve));
    handle.send({ type: 'stop' });
    const killer = setTimeout(() => handle.kill('SIGKILL'), STOP_GRACE_MS);
    await gone;
    clearTimeout(killer);
  }

  /** Kill switch: the worker keeps computing and sends no order; survives restarts. */
  setHalted(halted: boolean): void {
    this.halted = halted;
    this.handle?.send({ type: 'halt', halted });
    this.onChange(this.info());
  }

  /** Flatten: halted from now on, and the worker closes every position at the next bar open. */
  flatten(): boolean {
    this.halted = true;
    const sent = this.handle !== null && this.handle !== undefined;
    this.handle?.send({ type: 'halt', halted: true });
    this.handle?.send({ type: 'flatten' });
    this.onChange(this.info());
    return sent;
  }

  async restart(): Promise<void> {
    await this.stop();
    this.start();
  }

  private spawn(): void {
    this.setState('starting');
    this.workerStatus = null;
    this.workerMessage = null;
    const handle = this.host.forkWorker({ ...this.launch, halted: this.halted });
    this.handle = handle;
    handle.onMessage((m) => {
      if (this.hooks.message?.(m, (reply) => handle.send(reply))) return;
      if (m.type === 'alert') {
        this.alerts.raise({ level: m.level, variant: this.config.name, title: m.title, message: m.message, ...(m.key ? { key: m.key } : {}) });
      } else if (m.type === 'status') {
        this.workerStatus = m.status;
        this.workerMessage = m.message;
        if (this.state === 'starting') this.state = 'running';
        this.onChange(this.info());
      } else if (m.type === 'metrics') {
        this.metricFamilies = m.families;
      } else if (m.type === 'live') {
        this.hooks.live?.({ pid: handle.pid, updatedAt: m.updatedAt, instruments: m.instruments, trading: m.trading });
      }
    });
    handle.onExit((code, signal) => this.exited(handle, code, signal));
    this.onChange(this.info());
  }

  private exited(handle: WorkerHandle, code: number | null, signal: string | null): void {
    if (this.handle !== handle) return;
    this.handle = null;
    this.metricFamilies = null;
    this.hooks.exited?.();
    this.lastExit = { code, signal, at: new Date(this.clock()).toISOString() };
    const waiters = this.stopWaiters;
    this.stopWaiters = [];
    if (!this.wantRunning) {
      this.workerStatus = 'stopped';
      this.setState('stopped');
      for (const w of waiters) w();
      return;
    }
    for (const w of waiters) w();
    const now = this.clock();
    this.crashTimes = this.crashTimes.filter((t) => now - t < this.policy.crashWindowMs);
    this.crashTimes.push(now);
    const how = signal ? `killed by ${signal}` : `exited with code ${String(code)}`;
    if (this.crashTimes.length >= this.policy.maxCrashes) {
      this.workerStatus = 'crashed';
      this.setState('crashed');
      this.alerts.raise({
        level: 'CRITICAL',
        variant: this.config.name,
        title: 'Worker keeps crashing: not restarted',
        message: `${this.config.name} crashed ${this.crashTimes.length} times within ${Math.round(
          this.policy.crashWindowMs / 1000,
        )} s (last: ${how}); start it again once the cause is fixed`,
        context: { code, signal },
        key: `${this.config.name}:crashed`,
      });
      return;
    }
    const delay = Math.min(
      this.policy.backoffInitialMs * 2 ** (this.crashTimes.length - 1),
      this.policy.backoffMaxMs,
    );
    this.setState('backoff');
    this.alerts.raise({
      level: 'WARNING',
      variant: this.config.name,
      title: 'Worker crashed: restarting',
      message: `${this.config.name} worker ${how}; restarting in ${delay} ms`,
      context: { code, signal, delayMs: delay },
    });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.wantRunning) return;
      this.restarts += 1;
      this.spawn();
    }, delay);
  }

  private setState(state: SupervisedState): void {
    this.state = state;
    this.onChange(this.info());
  }
}
