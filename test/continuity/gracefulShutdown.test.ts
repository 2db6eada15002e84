import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { freshDir, waitFor } from '../helpers.js';

const root = join(import.meta.dirname, '..', '..');
const tmp = freshDir('shutdown');
const VARIANTS = ['demo-15m', 'demo-30m', 'demo-i-15m', 'demo-multi-15m'];
const BOUND_MS = 15_000;
const running: ChildProcess[] = [];
let webhook: Server | null = null;
afterAll(() => {
  for (const c of running) if (c.exitCode === null && c.pid) process.kill(-c.pid, 'SIGKILL');
  webhook?.close();
  tmp.remove();
});

function serve(): { child: ChildProcess; output: () => string; exited: () => number | null } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main/cli/main.ts'), 'serve', '--data-dir', tmp.dir, '--port', '0', '--token', 'tok-shutdown', '--demo-speed', '600'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(child);
  let out = '';
  let code: number | null = null;
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  child.once('exit', (c) => (code = c ?? -1));
  return { child, output: () => out, exited: () => code };
}

function readDb<T>(read: (db: Database.Database) => T): T {
  const db = new Database(join(tmp.dir, 'kestrel.db'), { readonly: true, fileMustExist: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

describe('graceful shutdown of the headless workstation', () => {
  it('SIGTERM: every state saved, workers stopped, "Kestrel stopped" reaches the webhook, exit within the bound, trades unchanged', async () => {
    const received: { title: string; level: string }[] = [];
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received.push(JSON.parse(body) as { title: string; level: string });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => webhook?.listen(0, '127.0.0.1', r));
    const port = (webhook.address() as { port: number }).port;
    writeFileSync(
      join(tmp.dir, 'settings.json'),
      JSON.stringify({ alerts: { webhook: { url: `http://127.0.0.1:${port}/hook`, minLevel: 'INFO' } }, shutdown: { timeoutMs: BOUND_MS } }),
    );

    const app = serve();
    await waitFor('serve listening', () => /Kestrel listening on/.test(app.output()), 180_000, 50);
    const savedBefore = await waitFor(
      'every demo variant trading with a saved state',
      () => {
        try {
          const rows = readDb((db) => db.prepare('SELECT variant, saved_at FROM variant_state').all() as { variant: string; saved_at: string }[]);
          return VARIANTS.every((v) => rows.some((r) => r.variant === v)) ? new Map(rows.map((r) => [r.variant, r.saved_at])) : undefined;
        } catch {
          return undefined;
        }
      },
      180_000,
      200,
    );
    app.child.kill('SIGTERM');
    await waitFor('serve to exit', () => app.exited() !== null, BOUND_MS + 10_000, 50);
    expect(app.exited(), app.output()).toBe(0);
    const tradesAtStop = readDb((db) => db.prepare('SELECT * FROM trades ORDER BY id').all());
    const savedAfter = readDb((db) => db.prepare('SELECT variant, saved_at FROM variant_state').all() as { variant: string; saved_at: string }[]);
    // Each worker committed its state on the way out: later than whatever was saved while it ran.
    for (const v of VARIANTS) expect((savedAfter.find((r) => r.variant === v)?.saved_at ?? '') >= (savedBefore.get(v) ?? '~'), v).toBe(true);
    await waitFor('"Kestrel stopped" at the webhook', () => received.some((a) => a.title === 'Kestrel stopped' && a.level === 'INFO'), 5_000);
    const mainLog = readFileSync(join(tmp.dir, 'logs', 'kestrel', 'main.log'), 'utf8');
    expect(mainLog).toMatch(/shutdown \(SIGTERM\): stopping 4 variants within 15000 ms/);
    expect(mainLog).not.toMatch(/killing what is left/);

    // The next start restores from those states: the trades journalled before the stop are the same rows.
    const again = serve();
    await waitFor('serve listening again', () => /Kestrel listening on/.test(again.output()), 180_000, 50);
    await waitFor('the variants restored', () => {
      const rows = readDb((db) => db.prepare('SELECT variant, saved_at FROM variant_state').all() as { variant: string; saved_at: string }[]);
      return VARIANTS.every((v) => (rows.find((r) => r.variant === v)?.saved_at ?? '') > (savedAfter.find((r) => r.variant === v)?.saved_at ?? ''));
    }, 120_000, 200);
    const tradesAfter = readDb((db) => db.prepare('SELECT * FROM trades ORDER BY id').all() as { id: string }[]);
    const ids = new Set((tradesAtStop as { id: string }[]).map((t) => t.id));
    expect(tradesAfter.filter((t) => ids.has(t.id))).toEqual(tradesAtStop);
    again.child.kill('SIGTERM');
    await waitFor('serve to exit again', () => again.exited() !== null, BOUND_MS + 10_000, 50);
  }, 600_000);
});
