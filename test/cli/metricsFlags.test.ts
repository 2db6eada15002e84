import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/main/cli/command.js';
import { resolveMetricsTarget, startMetricsFromFlags } from '../../src/main/cli/metricsFlags.js';
import { FleetMetrics } from '../../src/main/workstation/fleetMetrics.js';
import { settingsSchema } from '../../src/shared/config.js';
import { freshDir, waitFor } from '../helpers.js';
import { PROJECT_ROOT } from './cliHarness.js';
import { DEMO_VARIANTS } from '../../src/main/workstation/defaultVariants.js';

/** Exporter flags, environment and settings: what is served where, and what a taken port costs. */

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const settingsWith = (port: number | null, host = '127.0.0.1', allowNonLoopback = false): ReturnType<typeof settingsSchema.parse> =>
  settingsSchema.parse({ metrics: { port, host, allowNonLoopback } });

async function takenPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** TCP ports the process `pid` listens on, read from /proc (its socket inodes × the kernel's tables). */
function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // the descriptor closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['tcp', 'tcp6']) {
    for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // st 0A = LISTEN; column 9 is the inode.
      if (cols.length > 9 && cols[3] === '0A' && inodes.has(cols[9]!)) ports.push(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return ports.sort((a, b) => a - b);
}

interface Served {
  pid: number;
  out: () => string;
  err: () => string;
  stop: () => Promise<number | null>;
}

/** `kestrel serve` from source in a child process, with `env` on top of a copy of ours minus KESTREL_METRICS_*. */
function serve(args: string[], env: Record<string, string> = {}): Served {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KESTREL_METRICS_')));
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), 'serve', '--port', '0', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { pid: child.pid!, out: () => out, err: () => err, stop };
}

async function listening(s: Served): Promise<{ url: string; port: number; token: string }> {
  const m = await waitFor('the listening line', () => /^Kestrel listening on (http:\/\/127\.0\.0\.1:(\d+)\/\?token=(\S+))$/m.exec(s.out()) ?? undefined, 90_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\nstdout: ${s.out()}\nstderr: ${s.err()}`);
  });
  return { url: m[1]!, port: Number(m[2]), token: decodeURIComponent(m[3]!) };
}

describe('resolveMetricsTarget: flag > environment > settings', () => {
  it('takes the port and the address each from the first source that gives one', () => {
    const settings = settingsWith(9100, '10.0.0.5', true);
    expect(resolveMetricsTarget({}, {}, settingsWith(null))).toBeNull();
    expect(resolveMetricsTarget({}, {}, settings)).toEqual({ host: '10.0.0.5', port: 9100, from: 'settings', allowNonLoopback: true });
    expect(resolveMetricsTarget({}, { KESTREL_METRICS_PORT: '9200' }, settings)).toEqual({ host: '10.0.0.5', port: 9200, from: 'environment', allowNonLoopback: true });
    expect(resolveMetricsTarget({}, { KESTREL_METRICS_PORT: '9200', KESTREL_METRICS_ADDR: '0.0.0.0' }, settings)).toEqual({ host: '0.0.0.0', port: 9200, from: 'environment', allowNonLoopback: true });
    expect(resolveMetricsTarget({ 'metrics-port': '9300' }, { KESTREL_METRICS_PORT: '9200' }, settings)).toEqual({ host: '10.0.0.5', port: 9300, from: 'flag', allowNonLoopback: true });
    expect(resolveMetricsTarget({ 'metrics-port': '0', 'metrics-addr': '::1' }, { KESTREL_METRICS_PORT: '9200', KESTREL_METRICS_ADDR: '0.0.0.0' }, settings)).toEqual({ host: '::1', port: 0, from: 'flag', allowNonLoopback: true });
    // An address on the command line or in the environment is the operator's confirmation; the settings' own needs its box.
    const loopbackSettings = settingsWith(9100);
    expect(resolveMetricsTarget({}, {}, loopbackSettings)?.allowNonLoopback).toBe(false);
    expect(resolveMetricsTarget({}, { KESTREL_METRICS_ADDR: '0.0.0.0' }, loopbackSettings)).toEqual({ host: '0.0.0.0', port: 9100, from: 'settings', allowNonLoopback: true });
    expect(resolveMetricsTarget({ 'metrics-addr': '0.0.0.0' }, {}, loopbackSettings)?.allowNonLoopback).toBe(true);
    // An address alone opens nothing; an empty variable is no variable.
    expect(resolveMetricsTarget({ 'metrics-addr': '0.0.0.0' }, { KESTREL_METRICS_PORT: ' ' }, settingsWith(null))).toBeNull();
  });

  it('names the flag or variable that holds a bad value', () => {
    expect(() => resolveMetricsTarget({ 'metrics-port': 'x' }, {}, settingsWith(null))).toThrow(new UsageError('--metrics-port: "x" is not a port number (0 picks a free one)'));
    expect(() => resolveMetricsTarget({}, { KESTREL_METRICS_PORT: '70000' }, settingsWith(null))).toThrow(new UsageError('KESTREL_METRICS_PORT: "70000" is not a port number (0 picks a free one)'));
    expect(() => resolveMetricsTarget({ 'metrics-port': '1' }, { KESTREL_METRICS_ADDR: 'a b' }, settingsWith(null))).toThrow(new UsageError('KESTREL_METRICS_ADDR: "a b" is not an address to bind, e.g. 127.0.0.1'));
  });
});

describe('startMetricsFromFlags (for the backtest commands)', () => {
  it('serves the given registry, and a taken port is one line, or exit 2 when exporting is the point', async () => {
    const registry = new Registry();
    new FleetMetrics(registry).backtestFinished('backtest', 4, 2_000);
    let stderr = '';
    const io = { stderr: { write: (s: string) => (stderr += s) } as unknown as NodeJS.WritableStream };
    const started = await startMetricsFromFlags({ 'metrics-port': '0' }, {}, settingsWith(null), registry, io);
    expect(started).not.toBeNull();
    cleanups.push(() => started!.close());
    const text = await (await fetch(started!.address.url)).text();
    expect(text).toMatch(/^kestrel_backtest_bars_per_second\{kind="backtest"\} 500$/m);
    expect(await startMetricsFromFlags({}, {}, settingsWith(null), registry, io)).toBeNull();

    const port = await takenPort();
    expect(await startMetricsFromFlags({}, { KESTREL_METRICS_PORT: String(port) }, settingsWith(null), registry, io)).toBeNull();
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(new RegExp(`^Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${port} cannot be served: port ${port} is in use`))]);
    await expect(startMetricsFromFlags({ 'metrics-port': String(port) }, {}, settingsWith(null), registry, io, { required: true })).rejects.toThrow(UsageError);
  });
});

describe('kestrel serve and the metrics port', () => {
  it('opens no metrics port without a flag, variable or setting; GET /api/metrics still answers behind the token', { timeout: 150_000 }, async () => {
    const tmp = freshDir('metrics-none');
    cleanups.push(tmp.remove);
    const s = serve(['--data-dir', tmp.dir, '--no-demo']);
    const { port, token } = await listening(s);
    expect(listeningPorts(s.pid)).toEqual([port]);
    expect(s.out()).not.toMatch(/Metrics on/);
    const res = await fetch(`http://127.0.0.1:${port}/api/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^# TYPE kestrel_alerts_open gauge$/m);
    expect(listeningPorts(s.pid)).toEqual([port]);
    expect(await s.stop()).toBe(0);
  });

  it('the variable beats the settings file; the flag beats the variable', { timeout: 240_000 }, async () => {
    const tmp = freshDir('metrics-env');
    cleanups.push(tmp.remove);
    const [fromSettings, fromEnv] = [await takenPort(), await takenPort()];
    // Ports that are taken would be refused: free them again, they were only reserved to be distinct.
    await cleanups.splice(-2).reverse().reduce((p, c) => p.then(() => c()), Promise.resolve());
    writeFileSync(join(tmp.dir, 'settings.json'), JSON.stringify({ ...settingsWith(fromSettings), demo: { enabled: false } }));
    const byEnv = serve(['--data-dir', tmp.dir], { KESTREL_METRICS_PORT: String(fromEnv) });
    const api = await listening(byEnv);
    const url = await waitFor('the metrics line', () => /^Metrics on (\S+)$/m.exec(byEnv.out())?.[1], 30_000);
    expect(url).toBe(`http://127.0.0.1:${fromEnv}/metrics`);
    expect(listeningPorts(byEnv.pid)).toEqual([api.port, fromEnv].sort((a, b) => a - b));
    expect(await byEnv.stop()).toBe(0);

    const byFlag = serve(['--data-dir', tmp.dir, '--metrics-port', '0', '--metrics-addr', '127.0.0.1'], { KESTREL_METRICS_PORT: String(fromEnv) });
    await listening(byFlag);
    const flagUrl = await waitFor('the metrics line', () => /^Metrics on (\S+)$/m.exec(byFlag.out())?.[1], 30_000);
    expect(flagUrl).not.toContain(`:${fromEnv}/`);
    expect(flagUrl).not.toContain(`:${fromSettings}/`);
    expect((await fetch(flagUrl)).status).toBe(200);
    expect(await byFlag.stop()).toBe(0);
  });

  it('a taken port: one line naming it, an alert in the app, and the demo variants trade on', { timeout: 240_000 }, async () => {
    const tmp = freshDir('metrics-taken-serve');
    cleanups.push(tmp.remove);
    const port = await takenPort();
    const s = serve(['--data-dir', tmp.dir, '--demo-speed', '600', '--metrics-port', String(port)]);
    const api = await listening(s);
    const lines = s.err().split('\n').filter((l) => l.includes(`:${port}`));
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^\\[WARNING\\] kestrel: Metrics not served: GET /metrics on 127\\.0\\.0\\.1:${port} cannot be served: port ${port} is in use`))]);
    const headers = { authorization: `Bearer ${api.token}` };
    const alerts = (await (await fetch(`http://127.0.0.1:${api.port}/api/alerts`, { headers })).json()) as { title: string; message: string }[];
    expect(alerts.find((a) => a.title === 'Metrics not served')?.message).toContain(`port ${port} is in use`);
    // Trading goes on: the demo variants run and their snapshots keep moving.
    const variants = async (): Promise<{ variant: string; status: string; lastBarAt: string | null }[]> =>
      (await (await fetch(`http://127.0.0.1:${api.port}/api/variants`, { headers })).json()) as { variant: string; status: string; lastBarAt: string | null }[];
    const first = await waitFor('every demo variant running', async () => {
      const v = await variants();
      return v.length === DEMO_VARIANTS.length && v.every((x) => x.status === 'running') ? v : undefined;
    }, 90_000, 250);
    await waitFor('new bars processed', async () => (await variants()).some((v) => v.lastBarAt !== first.find((f) => f.variant === v.variant)?.lastBarAt), 60_000, 250);
    expect(await s.stop()).toBe(0);
  });
});
