import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir, waitFor } from '../helpers.js';

/**
 * One workstation per data directory: real `kestrel serve` processes (from source, through tsx),
 * each in a process group of its own so that a SIGKILL takes the whole app, workers included.
 */
const root = join(import.meta.dirname, '..', '..');
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Served {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(dataDir: string, extra: readonly string[] = ['--no-demo']): Served {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/main/cli/main.ts'), 'serve', '--data-dir', dataDir, '--token', 'tok-lock', '--allow-control', ...extra],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  cleanups.push(() => killGroup(child));
  return { child, output: () => out, exit };
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function listening(s: Served): Promise<string> {
  return waitFor('Kestrel listening', () => /Kestrel listening on (http:\/\/[^/\s]+)/.exec(s.output())?.[1], 60_000, 50).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${s.output()}`);
  });
}

/** The process's exit, or a failure after `ms` saying it is still running (a second instance trading). */
async function exitOf(s: Served, ms = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`still running after ${ms / 1000} s:\n${s.output()}`)), ms);
  });
  try {
    return await Promise.race([s.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('one workstation per data directory', () => {
  it('a second serve on the same data directory exits 2 naming the running one (pid and URL), before starting anything', async () => {
    const tmp = freshDir('lock-two');
    cleanups.push(tmp.remove);
    // The first with the demo market, as in the report: two demo writers raced on one file.
    const first = serve(tmp.dir, ['--port', '0', '--demo-speed', '600']);
    const firstUrl = await listening(first);

    const second = serve(tmp.dir, ['--port', '0', '--demo-speed', '600']);
    const ended = await exitOf(second);
    expect(ended.code, second.output()).toBe(2);
    const lines = second.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`pid ${first.child.pid}`);
    expect(lines[0]).toContain(firstUrl);
    expect(lines[0]).toContain(tmp.dir);
    expect(second.output()).not.toMatch(/demo market|listening/);

    // The first is untouched and still the one the note names.
    const status = await fetch(`${firstUrl}/api/status`, { headers: { authorization: 'Bearer tok-lock' } });
    expect(status.status).toBe(200);
    expect(JSON.parse(readFileSync(join(tmp.dir, 'kestrel.lock'), 'utf8'))).toMatchObject({ pid: first.child.pid, url: `${firstUrl}/` });
  }, 150_000);

  it('SIGKILL releases the lock: the next start on the same directory runs', async () => {
    const tmp = freshDir('lock-kill');
    cleanups.push(tmp.remove);
    for (let round = 0; round < 2; round++) {
      const app = serve(tmp.dir, ['--port', '0']);
      await listening(app);
      killGroup(app.child);
      expect((await exitOf(app)).signal).toBe('SIGKILL');
    }
    // The note the killed one left behind does not hold the directory: the lock is the socket.
    expect(existsSync(join(tmp.dir, 'kestrel.lock'))).toBe(true);
    const last = serve(tmp.dir, ['--port', '0']);
    await listening(last);
    const again = serve(tmp.dir, ['--port', '0']);
    expect((await exitOf(again)).code).toBe(2);
    expect(again.output()).toContain(`pid ${last.child.pid}`);
  }, 200_000);

  it('a port already taken: exit 2 in one line, with no worker started and nothing written to the store', async () => {
    const tmp = freshDir('lock-port');
    cleanups.push(tmp.remove);
    const squatter: Server = createServer();
    await new Promise<void>((ok) => squatter.listen(0, '127.0.0.1', () => ok()));
    cleanups.push(() => new Promise<void>((ok) => squatter.close(() => ok())));
    const port = (squatter.address() as { port: number }).port;

    const app = serve(tmp.dir, ['--port', String(port), '--demo-speed', '600']);
    const ended = await exitOf(app);
    expect(ended.code, app.output()).toBe(2);
    expect(app.output().trim().split('\n')).toEqual([`kestrel serve: cannot listen on 127.0.0.1:${port}: the port is in use (EADDRINUSE)`]);
    // Neither the demo nor a worker ran: no store, no snapshot, no lock left behind.
    expect(existsSync(join(tmp.dir, 'kestrel.db'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'monitor'))).toBe(false);
    expect(existsSync(join(tmp.dir, 'kestrel.lock'))).toBe(false);
  }, 120_000);
});
