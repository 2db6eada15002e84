import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { contract, entryNames, fillPath, type Alert, type EntryName } from '../../src/shared/api.js';
import { freshDir, waitFor } from '../helpers.js';
import { killGroup, listening, spawnServe } from '../serveProcess.js';
import { startHarness, type Harness } from './workstationHarness.js';

/**
 * The headless API's edges, as an attacker or a clumsy client meets them: refused commands are
 * refused before their body is read and cost the database almost nothing; prototype keys; Host
 * and Origin; frame and send-buffer limits; malformed URLs; the CSP.
 */
const cleanups: (() => void | Promise<void>)[] = [];
let readOnly: Harness;
let control: Harness;
const readOnlyLog: string[] = [];
const CLIENT_BUFFER = 64 * 1024;

beforeAll(async () => {
  const a = freshDir('edges-ro');
  const b = freshDir('edges-ctl');
  const renderer = join(a.dir, 'renderer');
  mkdirSync(renderer);
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Kestrel</title>');
  readOnly = await startHarness({
    dataDir: join(a.dir, 'data'),
    controlEnabled: false,
    settings: { demo: { enabled: false } },
    server: { maxClientBufferBytes: CLIENT_BUFFER, log: (line) => readOnlyLog.push(line), allowedHosts: ['kestrel.lan'], rendererDir: renderer },
  });
  const variants = [{ name: 'demo-15m', strategy: 'macd-td' as const, vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 250, enabled: true }];
  control = await startHarness({ dataDir: b.dir, controlEnabled: true, settings: { demo: { enabled: true, speed: 600, seed: 5 }, variants } });
  cleanups.push(a.remove, b.remove);
});

afterAll(async () => {
  await readOnly?.stop();
  await control?.stop();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const portOf = (h: Harness): number => Number(new URL(h.baseUrl).port);

/** Writes raw bytes and resolves with what came back first (the status line and headers), or null after `ms`. */
function rawExchange(port: number, text: string, ms = 15_000): Promise<{ head: string | null; socket: Socket }> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const timer = setTimeout(() => done({ head: null, socket }), ms);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        done({ head: got, socket });
      }
    });
    socket.on('error', () => undefined);
    socket.write(text);
  });
}

function dbBytes(dataDir: string): number {
  return ['kestrel.db', 'kestrel.db-wal'].map((f) => join(dataDir, f)).reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

describe('refused commands: no body read, nothing large stored', () => {
  it('answers 403 to a read-only host as soon as the headers are in, without waiting for the body', async () => {
    const declared = 50 * 1024 * 1024;
    const { head, socket } = await rawExchange(
      portOf(readOnly),
      `POST /api/data/import HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${readOnly.token}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{"fileName":"big.csv","content":"`,
    );
    socket.destroy();
    expect(head, 'no answer while the 50 MB body was still to come').not.toBeNull();
    expect(head?.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head?.toLowerCase()).toContain('connection: close');
  });

  it('twenty 1 MB refused settings saves grow kestrel.db by kilobytes, and are audited as refused', async () => {
    const dataDir = readOnly.workstation.dataDir;
    const before = dbBytes(dataDir);
    // Many keys: what a refused save used to copy into the audit journal.
    const settings: Record<string, number> = {};
    for (let i = 0, chars = 0; chars < 1_030_000; i++, chars += `"s${i}":${i},`.length) settings[`s${i}`] = i;
    const body = JSON.stringify({ settings });
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(body.length).toBeLessThan(1_048_576);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${readOnly.baseUrl}/api/settings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${readOnly.token}`, 'content-type': 'application/json' },
        body,
      });
      expect(res.status).toBe(403);
    }
    expect(dbBytes(dataDir) - before).toBeLessThan(256 * 1024);
    const db = new Database(join(dataDir, 'kestrel.db'), { readonly: true });
    const rows = db.prepare("SELECT outcome, length(params) AS size FROM audit WHERE action = 'updateSettings'").all() as { outcome: string; size: number }[];
    db.close();
    expect(rows).toHaveLength(20);
    for (const r of rows) expect(r).toEqual({ outcome: 'refused', size: 2 });
  }, 120_000);

  it('eight concurrent 54 MB imports to a read-only host keep its memory bounded', async () => {
    if (!existsSync('/proc/self/status')) return;
    const tmp = freshDir('edges-mem');
    cleanups.push(tmp.remove);
    const app = spawnServe(tmp.dir, ['--port', '0', '--no-demo', '--token', 'tok-mem']);
    cleanups.push(() => killGroup(app.child));
    const origin = await listening(app);
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${app.child.pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;
    const before = rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 20);
    const size = 54 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const upload = (): Promise<number | string> =>
      new Promise((done) => {
        const req = request(`${origin}/api/data/import`, {
          method: 'POST',
          headers: { authorization: 'Bearer tok-mem', 'content-type': 'application/json', 'content-length': size },
        });
        req.on('response', (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        });
        req.on('error', (err) => done(err.message));
        let sent = 0;
        const pump = (): void => {
          while (sent < size && !req.destroyed) {
            sent += chunk.length;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          if (!req.destroyed) req.end();
        };
        pump();
      });
    const answers = await Promise.all(Array.from({ length: 8 }, upload));
    clearInterval(sampler);
    peak = Math.max(peak, rss());
    expect(peak - before).toBeLessThan(100 * 1024 * 1024);
    // Each is refused (403), or its connection closed under the upload once the 403 was sent.
    for (const a of answers) expect(a === 403 || typeof a === 'string', String(a)).toBe(true);
    expect(answers).toContain(403);
  }, 180_000);
});

describe('prototype keys in a JSON body', () => {
  /** A body each command would otherwise accept, so that only the prototype key can refuse it. */
  const validBodies: Record<string, Record<string, unknown>> = {
    startVariant: {},
    stopVariant: {},
    restartVariant: {},
    setTradingHalted: { halted: false },
    acknowledgeAlert: {},
    updateSettings: { settings: {} },
    testBarSource: { barSource: { kind: 'sqlite' } },
    importBars: { fileName: 'rb.csv', content: 'datetime,open,high,low,close,volume\n', format: 'csv', symbol: 'rb2405', exchange: 'SHFE' },
    flattenVariant: {},
    startBacktest: { strategy: 'macd-td', symbols: ['rb9999.SIM'], from: '2025-01-01', to: '2025-01-31', windowMinutes: 15 },
    pauseBacktest: {},
    resumeBacktest: {},
    cancelBacktest: {},
    rerunBacktest: {},
    setBacktestQueuePaused: { paused: false },
    startSweep: { job: { strategy: 'macd-td', symbols: ['rb9999.SIM'], from: '2025-01-01', to: '2025-01-31', windowMinutes: 15 }, parameters: { 'signal.fast': { values: [8] } } },
  };
  const pathParams: Record<string, string> = { variant: 'demo-15m', id: 'no-such-alert' };
  const commands = entryNames.filter((n): n is EntryName => contract[n].kind === 'command');

  it('every command of the contract is covered here', () => {
    expect(commands.filter((n) => !(n in validBodies))).toEqual([]);
  });

  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`"${key}" is refused with 400 by every command, at the top and nested`, async () => {
      await waitFor('demo-15m running', () => control.workstation.summaryOf('demo-15m').status === 'running', 60_000);
      for (const name of commands) {
        const { path } = fillPath(contract[name].rest.path, pathParams);
        const valid = JSON.stringify(validBodies[name]).slice(1, -1);
        const poisoned = `{"halted":true,"variant":"demo-15m"}`;
        for (const text of [`{"${key}":${poisoned}${valid ? `,${valid}` : ''}}`, `{${valid ? `${valid},` : ''}"nested":{"${key}":${poisoned}}}`]) {
          const res = await fetch(`${control.baseUrl}${path}`, {
            method: 'POST',
            headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
            body: text,
          });
          const body = (await res.json()) as { error?: string };
          expect({ name, text, status: res.status }).toEqual({ name, text, status: 400 });
          expect(body.error).toContain(`"${key}"`);
        }
      }
      expect(control.workstation.summaryOf('demo-15m').halted).toBe(false);
      expect(({} as Record<string, unknown>).halted).toBeUndefined();
      const db = new Database(join(control.workstation.dataDir, 'kestrel.db'), { readonly: true });
      const audited = db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number };
      db.close();
      expect(audited.n).toBe(0);
    }, 120_000);
  }
});

describe('Host, Origin, URL and CSP', () => {
  const status = async (path: string, host: string): Promise<{ code: number; csp: string | null }> => {
    const res = await new Promise<{ code: number; csp: string | null }>((done, fail) => {
      const req = request({ host: '127.0.0.1', port: portOf(readOnly), path, headers: { host, authorization: `Bearer ${readOnly.token}` } }, (r) => {
        r.resume();
        done({ code: r.statusCode ?? 0, csp: (r.headers['content-security-policy'] as string | undefined) ?? null });
      });
      req.on('error', fail);
      req.end();
    });
    return res;
  };

  it('serves loopback names, the bound address and configured names; refuses any other Host (DNS rebinding)', async () => {
    const port = portOf(readOnly);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `kestrel.lan:${port}`, 'LOCALHOST']) {
      expect({ host, code: (await status('/api/status', host)).code }).toEqual({ host, code: 200 });
    }
    for (const host of [`rebind.attacker.example:${port}`, 'x; script-src *', `127.0.0.1.attacker.example:${port}`]) {
      expect({ host, code: (await status('/api/status', host)).code }).toEqual({ host, code: 403 });
      expect({ host, code: (await status('/', host)).code }).toEqual({ host, code: 403 });
    }
  });

  it('the CSP is one constant: nothing of the request reaches it', async () => {
    const port = portOf(readOnly);
    const a = await status('/', `127.0.0.1:${port}`);
    const b = await status('/', `kestrel.lan:${port}`);
    expect(a.code).toBe(200);
    expect(a.csp).toContain("connect-src 'self'");
    expect(b.csp).toBe(a.csp);
    expect(a.csp).not.toContain(String(port));
  });

  it('a malformed percent-escape is a 400, never a 500', async () => {
    for (const path of ['/%E0%A4%A', '/api/variants/%E0%A4%A/snapshot', '/assets/%FF']) {
      expect({ path, code: (await status(path, '127.0.0.1')).code }).toEqual({ path, code: 400 });
    }
  });

  it('WebSocket upgrades: another page (Origin) or another Host is refused; the own page and non-browser clients are served', async () => {
    const base = `ws://127.0.0.1:${portOf(readOnly)}/api/ws?token=${readOnly.token}`;
    const outcome = (opts: { origin?: string; headers?: Record<string, string> }): Promise<string> =>
      new Promise((done) => {
        const ws = new WebSocket(base, opts);
        ws.on('unexpected-response', (_req, res) => done(String(res.statusCode)));
        ws.on('open', () => {
          ws.close();
          done('open');
        });
        ws.on('error', (err) => done(`error ${err.message}`));
      });
    expect(await outcome({ origin: 'http://attacker.example' })).toBe('403');
    expect(await outcome({ origin: 'null' })).toBe('403');
    expect(await outcome({ headers: { host: 'attacker.example' } })).toBe('403');
    expect(await outcome({ origin: `http://127.0.0.1:${portOf(readOnly)}` })).toBe('open');
    expect(await outcome({})).toBe('open');
  });

  it('a WebSocket frame larger than the limit closes the connection (1009)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(readOnly)}/api/ws?token=${readOnly.token}`);
    await new Promise<void>((ok, fail) => {
      ws.once('open', () => ok());
      ws.once('error', fail);
    });
    const closed = new Promise<number>((done) => ws.once('close', (code) => done(code)));
    ws.send(Buffer.alloc(8 * 1024 * 1024, 1));
    const code = await Promise.race([closed, new Promise<string>((done) => setTimeout(() => done('still open'), 15_000))]);
    expect(code).toBe(1009);
  });
});

describe('slow clients are dropped, not buffered', () => {
  let n = 0;
  const bigAlert = (): Alert => ({
    id: `slow-${n++}`,
    time: new Date().toISOString(),
    level: 'INFO',
    variant: null,
    title: 'large event',
    message: 'x'.repeat(32 * 1024),
    context: {},
    acknowledged: false,
  });
  /** Emits large events until `dropped` shows in the server's log: the deadline is the failure. */
  const floodUntil = (dropped: RegExp): Promise<string> => {
    const from = readOnlyLog.length;
    return waitFor(
      `a log line matching ${String(dropped)}`,
      () => {
        for (let i = 0; i < 16; i++) readOnly.workstation.bus.emit('alertRaised', bigAlert());
        return readOnlyLog.slice(from).find((l) => dropped.test(l));
      },
      60_000,
      20,
    );
  };

  /** Opens a connection with `request`, stops reading once `status` is answered, and floods until it is dropped. */
  const neverReads = async (request: string, status: string, dropped: RegExp): Promise<void> => {
    const { head, socket } = await rawExchange(portOf(readOnly), request);
    expect(head?.split('\r\n')[0]).toBe(status);
    socket.pause();
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    const line = await floodUntil(dropped);
    expect(line).toContain(`at most ${CLIENT_BUFFER}`);
    socket.resume();
    await closed;
  };

  it('an SSE client that never reads', async () => {
    await neverReads(`GET /api/events?token=${readOnly.token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'HTTP/1.1 200 OK', /^SSE client dropped/);
  });

  it('a WebSocket client that never reads', async () => {
    await neverReads(
      `GET /api/ws?token=${readOnly.token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      'HTTP/1.1 101 Switching Protocols',
      /^WebSocket client dropped/,
    );
  });
});
