import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test as base } from '@playwright/test';

/**
 * The real headless host as a child process, on a fresh data directory and a free port:
 * `node bin/kestrel.js serve --data-dir D --port 0 --demo-speed 600 --token T [--allow-control]`.
 */
const ROOT = resolve(import.meta.dirname, '..');
const READY_RE = /Kestrel listening on (http:\/\/\S+)/;
export const READY_TIMEOUT_MS = 60_000;

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export interface KestrelHost {
  /** The page address, token included. */
  url: string;
  token: string;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  dataDir: string;
  pid: number;
  /** Calls the REST API with the token; `body` is the parsed JSON (or null). */
  api<T = unknown>(path: string, init?: RequestInit): Promise<ApiResponse<T>>;
  /** Everything the host printed so far (stdout and stderr, interleaved). */
  output(): string;
}

export interface StartOptions {
  allowControl?: boolean;
  demoSpeed?: number;
  /** More `serve` flags (e.g. --queue redis://…). */
  extraArgs?: readonly string[];
  /** Written as the data directory's settings.json before the host starts (e.g. `{ demo: { crypto: true } }`). */
  settings?: Record<string, unknown>;
}

export async function startHost(opts: StartOptions = {}): Promise<KestrelHost & { stop(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kestrel-e2e-'));
  const token = randomBytes(16).toString('hex');
  if (opts.settings) writeFileSync(join(dataDir, 'settings.json'), JSON.stringify(opts.settings));
  const args = [
    join(ROOT, 'bin', 'kestrel.js'),
    'serve',
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--demo-speed',
    String(opts.demoSpeed ?? 600),
    '--token',
    token,
    ...(opts.allowControl ? ['--allow-control'] : []),
    ...(opts.extraArgs ?? []),
  ];
  // Its own process group, so that teardown takes the workers down with it.
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  let output = '';
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`kestrel serve ${why}\n--- host output ---\n${output || '(nothing)'}\n-------------------`));
    };
    const timer = setTimeout(() => fail(`printed no "Kestrel listening on" line within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = READY_RE.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited early (code ${code ?? '—'}, signal ${signal ?? '—'})`));
  }).catch(async (err: unknown) => {
    killGroup(child, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });
  const baseUrl = new URL(url).origin;
  const pid = child.pid ?? -1;

  return {
    url,
    token,
    baseUrl,
    dataDir,
    pid,
    output: () => output,
    async api<T = unknown>(path: string, init: RequestInit = {}): Promise<ApiResponse<T>> {
      const headers = new Headers(init.headers);
      headers.set('authorization', `Bearer ${token}`);
      if (init.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
      const res = await fetch(baseUrl + path, { ...init, headers });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        killGroup(child, 'SIGTERM');
        const gone = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
        if (!gone) killGroup(child, 'SIGKILL');
      }
      // Workers may outlive a host killed hard: take the whole group.
      killGroup(child, 'SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/**
 * `host` (read-only) is shared by the tests of a worker, since a fresh host first backfills
 * its demo market; `controlHost` (started with --allow-control) lives for one test only.
 */
export const test = base.extend<{ controlHost: KestrelHost }, { host: KestrelHost }>({
  host: [
    async ({}, use) => {
      const host = await startHost({ allowControl: false });
      try {
        await use(host);
      } finally {
        await host.stop();
      }
    },
    { scope: 'worker', timeout: READY_TIMEOUT_MS + 30_000 },
  ],
  controlHost: async ({}, use) => {
    const host = await startHost({ allowControl: true });
    try {
      await use(host);
    } finally {
      await host.stop();
    }
  },
});

export { expect } from '@playwright/test';
