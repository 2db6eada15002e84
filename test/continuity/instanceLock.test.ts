import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freshDir } from '../helpers.js';
import { exitOf, killGroup, listening, spawnServe, type ServeProcess } from '../serveProcess.js';

/** One workstation per data directory: real `kestrel serve` processes, SIGKILLed whole. */
const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function serve(dataDir: string, extra: readonly string[]): ServeProcess {
  const s = spawnServe(dataDir, ['--token', 'tok-lock', '--allow-control', ...extra]);
  cleanups.push(() => killGroup(s.child));
  return s;
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
