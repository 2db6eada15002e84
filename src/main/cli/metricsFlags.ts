import { metricsNotConfirmed, type Settings } from '../../shared/config.js';
import { isLoopbackHost } from '../../shared/loopback.js';
import { MetricsEndpoint, metricsListenFailure, type MetricsAddress } from '../workstation/metricsEndpoint.js';
import { UsageError, type FlagSpec } from './command.js';

/** The flags every command that can export metrics takes (spread into its flag spec). */
export const METRICS_FLAGS = {
  'metrics-port': { type: 'string' },
  'metrics-addr': { type: 'string' },
} as const satisfies FlagSpec;

export const METRICS_USAGE = `  --metrics-port N    serve Prometheus metrics at http://ADDR:N/metrics (0 picks a free port);
                      else $KESTREL_METRICS_PORT, else the settings (metrics.port); off by default
  --metrics-addr ADDR address the metrics bind (default: $KESTREL_METRICS_ADDR, the settings, 127.0.0.1)
`;

export interface MetricsFlagValues {
  'metrics-port'?: string;
  'metrics-addr'?: string;
}

export const METRICS_PORT_ENV = 'KESTREL_METRICS_PORT';
export const METRICS_ADDR_ENV = 'KESTREL_METRICS_ADDR';

/** Where the metrics are to be served, and which source said so (for messages). */
export interface MetricsTarget {
  host: string;
  /** A host that is not loopback may be bound (confirmed in Settings, or given on the command line). */
  allowNonLoopback: boolean;
  port: number;
  from: 'flag' | 'environment' | 'settings';
}

function portOf(text: string, where: string): number {
  const port = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || port > 65_535) throw new UsageError(`${where}: "${text}" is not a port number (0 picks a free one)`);
  return port;
}

function addrOf(text: string, where: string): string {
  const addr = text.trim();
  if (addr === '' || /[\s/]/.test(addr)) throw new UsageError(`${where}: "${text}" is not an address to bind, e.g. 127.0.0.1`);
  return addr;
}

/**
 * Port and address, each taken from the first of: flag, environment variable, settings. Null
 * (nothing served, no port opened) when none gives a port.
 * @throws UsageError naming the flag or variable that holds a bad value.
 */
export function resolveMetricsTarget(flags: MetricsFlagValues, env: NodeJS.ProcessEnv, settings: Pick<Settings, 'metrics'>): MetricsTarget | null {
  const envPort = env[METRICS_PORT_ENV];
  const envAddr = env[METRICS_ADDR_ENV];
  let port: number | null;
  let from: MetricsTarget['from'];
  if (flags['metrics-port'] !== undefined) {
    port = portOf(flags['metrics-port'], '--metrics-port');
    from = 'flag';
  } else if (envPort !== undefined && envPort.trim() !== '') {
    port = portOf(envPort, METRICS_PORT_ENV);
    from = 'environment';
  } else {
    port = settings.metrics.port;
    from = 'settings';
  }
  const addrGiven = flags['metrics-addr'] !== undefined || (envAddr !== undefined && envAddr.trim() !== '');
  const host =
    flags['metrics-addr'] !== undefined
      ? addrOf(flags['metrics-addr'], '--metrics-addr')
      : envAddr !== undefined && envAddr.trim() !== ''
        ? addrOf(envAddr, METRICS_ADDR_ENV)
        : settings.metrics.host;
  // An address on the command line or in the environment is the operator's own word: it confirms a non-loopback bind.
  const allowNonLoopback = addrGiven || settings.metrics.allowNonLoopback;
  return port === null ? null : { host, port, from, allowNonLoopback };
}

/** What a command serves at GET /metrics: a prom-client Registry, or anything that renders like one. */
export interface Exposition {
  metrics(): Promise<string>;
  readonly contentType: string;
}

/** The port cannot be bound by a command whose purpose is to export (exit 2, one line). */
export class MetricsNotServedError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsNotServedError';
  }
}

/**
 * For the commands that run without a workstation (backtest, sweep, backtest-worker): serves
 * `registry` (e.g. one holding `FleetMetrics`) at the target the flags, environment or settings
 * give. Returns null when no port is given. A port that cannot be
 * bound is one line on stderr and the command goes on, unless `required` (a command whose
 * purpose is to export) and the port came from the flag or the environment: then it is a
 * MetricsNotServedError (a UsageError: exit 2).
 */
export async function startMetricsFromFlags(
  flags: MetricsFlagValues,
  env: NodeJS.ProcessEnv,
  settings: Pick<Settings, 'metrics'>,
  registry: Exposition,
  io: { stderr: NodeJS.WritableStream },
  opts: { required?: boolean } = {},
): Promise<{ address: MetricsAddress; close(): Promise<void> } | null> {
  const target = resolveMetricsTarget(flags, env, settings);
  if (!target) return null;
  if (!target.allowNonLoopback && !isLoopbackHost(target.host)) {
    io.stderr.write(`Metrics not served: ${metricsNotConfirmed(target.host)}\n`);
    return null;
  }
  const endpoint = new MetricsEndpoint(() => registry.metrics(), registry.contentType);
  try {
    const address = await endpoint.listen(target.host, target.port);
    return { address, close: () => endpoint.close() };
  } catch (err) {
    const line = `Metrics not served: ${metricsListenFailure(target.host, target.port, err)}`;
    // A port from the settings is the workstation's (perhaps serving it right now): only a port asked of this run is required.
    if (opts.required && target.from !== 'settings') throw new MetricsNotServedError(line);
    io.stderr.write(`${line}\n`);
    return null;
  }
}
