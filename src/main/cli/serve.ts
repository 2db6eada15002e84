import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { KESTREL_VERSION } from '../../shared/version.js';
import { ApiServer } from '../node/apiServer.js';
import { NodeHost } from '../node/nodeHost.js';
import { SettingsError, loadSettings } from '../workstation/settingsFile.js';
import { InstanceLock, InstanceLockedError } from '../workstation/instanceLock.js';
import { Workstation } from '../workstation/workstation.js';
import { UsageError, type CliCommand, type CliIo } from './command.js';
import { QUEUE_FLAGS, queueAddressOf } from './backtestJobs.js';
import { METRICS_FLAGS, METRICS_USAGE, resolveMetricsTarget } from './metricsFlags.js';
import { defaultDataDir } from './storeFlags.js';

const USAGE = `Usage: kestrel serve [options]

Starts the headless workstation: supervisor, workers, demo market and the web UI.

  --data-dir DIR      data directory (default: $KESTREL_DATA_DIR or ~/.kestrel)
  --port N            HTTP port on 127.0.0.1 (default 7420; 0 picks a free one)
  --host ADDR         address to bind (default 127.0.0.1)
  --allow-host NAME   a name the UI may be reached by besides loopback and the bound address
                      (a reverse proxy's; repeatable): other Host headers are refused
  --token T           API token (default: a new random one each start)
  --allow-control     serve commands (start/stop/restart/…); read-only otherwise
  --demo-speed X      simulated minutes per real minute (default from settings: 60)
  --no-demo           do not run the simulated market
  --queue URL         backtests go to the BullMQ queue on this Redis (redis://host:6379), taken by
                      \`kestrel backtest-worker\` processes, instead of this machine's threads
                      (overrides Settings' backtest.queue; a host beyond this machine is confirmed by it)
  --queue-name NAME   the queue's name (default kestrel-backtests)
${METRICS_USAGE}`;

function rendererDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'renderer'), join(here, '..', '..', '..', 'out', 'renderer')];
  return candidates.find((c) => existsSync(join(c, 'index.html'))) ?? null;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: USAGE,
  async run(argv: readonly string[], io: CliIo): Promise<number> {
    let values;
    try {
      ({ values } = parseArgs({
        args: [...argv],
        strict: true,
        options: {
          'data-dir': { type: 'string' },
          port: { type: 'string' },
          host: { type: 'string' },
          'allow-host': { type: 'string', multiple: true },
          token: { type: 'string' },
          'allow-control': { type: 'boolean' },
          'demo-speed': { type: 'string' },
          'no-demo': { type: 'boolean' },
          ...METRICS_FLAGS,
          ...QUEUE_FLAGS,
          'build-if-missing': { type: 'boolean' },
          help: { type: 'boolean' },
        },
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    if (values.help) {
      io.stdout.write(USAGE);
      return 0;
    }
    const port = values.port === undefined ? 7420 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port: "${values.port}" is not a port number`);
    const dataDir = resolve(io.cwd, values['data-dir'] ?? defaultDataDir());
    mkdirSync(dataDir, { recursive: true });
    let settings;
    let settingsStore;
    try {
      ({ settings, store: settingsStore } = loadSettings(dataDir));
    } catch (err) {
      if (err instanceof SettingsError) throw new UsageError(err.message);
      throw err;
    }
    if (values['demo-speed'] !== undefined) {
      const speed = Number(values['demo-speed']);
      if (!(speed > 0) || speed > 100_000) throw new UsageError(`--demo-speed: "${values['demo-speed']}" must be a number in (0, 100000]`);
      settings = { ...settings, demo: { ...settings.demo, speed } };
    }
    if (values['no-demo']) settings = { ...settings, demo: { ...settings.demo, enabled: false } };
    // Flag > environment > settings; the workstation serves what this says (and nothing when it is null).
    const metricsTarget = resolveMetricsTarget(values, process.env, settings);
    settings = {
      ...settings,
      metrics: {
        ...settings.metrics,
        port: metricsTarget?.port ?? null,
        host: metricsTarget?.host ?? settings.metrics.host,
        allowNonLoopback: metricsTarget?.allowNonLoopback ?? settings.metrics.allowNonLoopback,
      },
    };
    const queue = queueAddressOf(values);
    if (queue) {
      // The command line's own address is the operator's confirmation, as --metrics-addr is.
      settings = { ...settings, backtest: { ...settings.backtest, queue: queue.url, queueName: queue.name ?? settings.backtest.queueName, allowNonLoopback: true } };
    }
    const token = values.token ?? randomBytes(18).toString('base64url');
    const controlEnabled = values['allow-control'] === true;

    // One workstation per data directory, before anything is started or bound.
    let lock: InstanceLock;
    try {
      lock = await InstanceLock.acquire(dataDir);
    } catch (err) {
      if (err instanceof InstanceLockedError) throw new UsageError(err.message);
      throw err;
    }

    const host = new NodeHost(undefined, (alert) =>
      io.stderr.write(`[${alert.level}] ${alert.variant ?? 'kestrel'}: ${alert.title}: ${alert.message}\n`),
    );
    const workstation = new Workstation({
      host,
      dataDir,
      settings,
      controlEnabled,
      version: KESTREL_VERSION,
      log: (line) => io.stderr.write(`${line}\n`),
      settingsStore,
    });
    const bindHost = values.host ?? '127.0.0.1';
    const server = new ApiServer({
      handlers: workstation.handlers,
      streams: workstation.streams,
      bus: workstation.bus,
      token,
      controlEnabled,
      rendererDir: rendererDir(),
      host: bindHost,
      port,
      allowedHosts: values['allow-host'] ?? [],
      refuseCommand: (name, pathParams, ctx) => workstation.refuseUnread(name, pathParams, ctx),
      log: (line) => io.stderr.write(`${line}\n`),
    });
    // The port first: a workstation that cannot serve its API must not trade unseen.
    let listening;
    try {
      listening = await server.listen();
    } catch (err) {
      await lock.release();
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot listen on ${bindHost}:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message}${code ? ` (${code})` : ''}`);
    }
    const { url } = listening;
    await workstation.start();
    lock.announce(new URL(url).origin + '/');
    io.stdout.write(`Kestrel listening on ${url}\n`);
    const metrics = workstation.metricsAddress();
    if (metrics) io.stdout.write(`Metrics on ${metrics.url}\n`);
    if (settings.demo.enabled) io.stderr.write(`Demo: simulated market at ${settings.demo.speed}x (exchange SIM, clearly simulated)\n`);
    if (settings.backtest.queue !== 'local') io.stderr.write(`Backtests: BullMQ queue "${settings.backtest.queueName}" on Redis (kestrel backtest-worker processes run them)\n`);
    if (!controlEnabled) io.stderr.write('Read-only: start with --allow-control to send commands\n');

    await new Promise<void>((done) => {
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) {
          host.killAll();
          process.exit(1);
        }
        stopping = true;
        io.stderr.write(`Kestrel stopping (${signal})…\n`);
        // The workstation keeps to its own bound; this one only guards against a hang beyond it.
        const guard = setTimeout(() => {
          io.stderr.write('Kestrel: shutdown hung past its bound; killing the workers\n');
          host.killAll();
          process.exit(1);
        }, settings.shutdown.timeoutMs + 5_000);
        guard.unref();
        void Promise.all([server.close(), workstation.shutdown(signal)]).finally(() => {
          host.killAll();
          void lock.release().finally(done);
        });
      };
      process.once('SIGINT', () => shutdown('SIGINT'));
      process.once('SIGTERM', () => shutdown('SIGTERM'));
    });
    return 0;
  },
};
