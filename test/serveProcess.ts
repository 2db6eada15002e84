import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from './helpers.js';

/**
 * A real `kestrel serve` process (from source, through tsx) in a process group of its own, so
 * that a SIGKILL takes the whole app, workers included.
 */
const root = join(import.meta.dirname, '..');

export interface ServeProcess {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnServe(dataDir: string, args: readonly string[]): ServeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main/cli/main.ts'), 'serve', '--data-dir', dataDir, ...args], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  return { child, output: () => out, exit };
}

export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The origin it serves at, once it says "Kestrel listening on". */
export function listening(s: ServeProcess): Promise<string> {
  return waitFor('Kestrel listening', () => /Kestrel listening on (http:\/\/[^/\s]+)/.exec(s.output())?.[1], 60_000, 50).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${s.output()}`);
  });
}

/** Its exit, or a failure after `ms` saying it is still running. */
export async function exitOf(s: ServeProcess, ms = 60_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
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
