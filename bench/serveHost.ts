import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** A `kestrel serve` the browser benches drive, in a process group of its own. */
export interface ServeHost {
  url: string;
  baseUrl: string;
  token: string;
  stop(): Promise<void>;
}

/** Starts the built `kestrel serve` on `dataDir` with `args` (after the data dir, port and token) and waits for its URL. */
export async function serveHost(dataDir: string, args: readonly string[]): Promise<ServeHost> {
  const token = randomBytes(12).toString('hex');
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'kestrel.js'), 'serve', '--data-dir', dataDir, '--port', '0', '--token', token, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "Kestrel listening on" within 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /Kestrel listening on (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        done(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`kestrel serve exited (${code ?? '—'}):\n${output}`)));
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    url,
    baseUrl: new URL(url).origin,
    token,
    async stop() {
      const kill = (signal: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, signal);
        } catch {
          // Already gone.
        }
      };
      kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 10_000))]);
      kill('SIGKILL');
    },
  };
}
