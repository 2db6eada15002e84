import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { RISK_REFUSAL_REASONS, type RiskRefusalReason } from '../shared/risk.js';
import type { MetricFamily } from '../shared/workerProtocol.js';

/**
 * Seconds from a 1-minute bar's end to its processing: a live variant sees most bars within its
 * poll interval; the upper buckets catch a store or feed that lags by minutes.
 */
const BAR_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The worker's own series, collected in its process and sent to main over IPC (the workstation
 * labels them with the variant): prom-client's process metrics, the bar latency histogram and
 * the last restore's duration. Names are those the main exporter serves; no series here has a
 * variant label of its own.
 */
export class WorkerMetrics {
  private readonly registry = new Registry();
  /**
   * Bar latency counts per bucket (the last one +Inf), sum and count: kept by hand rather than in
   * a prom-client Histogram, whose observe() costs about as much as processing the bar itself;
   * turned into the histogram family when the heartbeat sends them.
   */
  private readonly latencyBuckets = new Float64Array(BAR_LATENCY_BUCKETS.length + 1);
  private latencySum = 0;
  private latencyCount = 0;
  private readonly restoreDuration: Gauge;
  private readonly feedStalled: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.restoreDuration = new Gauge({
      name: 'kestrel_restore_duration_seconds',
      help: "Seconds the worker's last restore took (load the state and history, replay, unfreeze)",
      registers: [this.registry],
    });
    this.feedStalled = new Gauge({
      name: 'kestrel_feed_stalled',
      help: 'The worker\'s "Feed stalled" condition: 1 while no new bar came for stallAfterBars expected intervals with the market open',
      registers: [this.registry],
    });
    this.feedStalled.set(0);
  }

  /** The gate's counts at the previous report; null before the first (restore's replay is not reported). */
  private refusalsSent: Record<RiskRefusalReason, number> | null = null;

  /**
   * The refusals since the previous report, given the gate's counts since the variant began.
   * The first report of this process is all zeros: its counts were restored with the state (or
   * came from restore's replay) and were reported, if ever, by the process that made them.
   */
  refusalDeltas(counts: Readonly<Record<RiskRefusalReason, number>>): Record<RiskRefusalReason, number> {
    const last = this.refusalsSent ?? counts;
    // A count that went down (never, short of a new state) starts over from there rather than going negative.
    const deltas = Object.fromEntries(RISK_REFUSAL_REASONS.map((r) => [r, Math.max(0, counts[r] - last[r])])) as Record<RiskRefusalReason, number>;
    this.refusalsSent = { ...counts };
    return deltas;
  }

  feed(stalled: boolean): void {
    this.feedStalled.set(stalled ? 1 : 0);
  }

  barProcessed(latencySeconds: number): void {
    if (!Number.isFinite(latencySeconds)) return;
    const v = Math.max(0, latencySeconds);
    let i = 0;
    while (i < BAR_LATENCY_BUCKETS.length && v > BAR_LATENCY_BUCKETS[i]!) i++;
    this.latencyBuckets[i]! += 1;
    this.latencySum += v;
    this.latencyCount += 1;
  }

  private latencyFamily(): MetricFamily {
    const values: MetricFamily['values'] = [];
    let cumulative = 0;
    BAR_LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += this.latencyBuckets[i]!;
      values.push({ value: cumulative, labels: { le }, metricName: 'kestrel_bar_latency_seconds_bucket' });
    });
    values.push({ value: this.latencyCount, labels: { le: '+Inf' }, metricName: 'kestrel_bar_latency_seconds_bucket' });
    values.push({ value: this.latencySum, labels: {}, metricName: 'kestrel_bar_latency_seconds_sum' });
    values.push({ value: this.latencyCount, labels: {}, metricName: 'kestrel_bar_latency_seconds_count' });
    return {
      name: 'kestrel_bar_latency_seconds',
      help: "Seconds from a live 1-minute bar's end (exchange clock, or for simulated and replayed feeds the read that found it) to the worker having processed it",
      type: 'histogram',
      values,
    };
  }

  restored(seconds: number): void {
    this.restoreDuration.set(seconds);
  }

  /** Every family as plain data for the IPC message; values that JSON cannot carry are left out. */
  async families(): Promise<MetricFamily[]> {
    const json = await this.registry.getMetricsAsJSON();
    const families = json.map((m): MetricFamily => ({
      name: m.name,
      help: m.help,
      // prom-client's typings call it an enum; at run time it is the name ('counter', 'histogram', …).
      type: String(m.type) as MetricFamily['type'],
      aggregator: m.aggregator,
      values: m.values
        .filter((v) => Number.isFinite(v.value))
        .map((v) => ({
          value: v.value,
          labels: Object.fromEntries(Object.entries(v.labels).filter((e): e is [string, string | number] => e[1] !== undefined)),
          ...('metricName' in v && typeof v.metricName === 'string' ? { metricName: v.metricName } : {}),
        })),
    }));
    return [...families, this.latencyFamily()];
  }
}
