import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';

let readOnly: Harness;
let control: Harness;
const cleanups: (() => void)[] = [];

const variants = [{ name: 'demo-15m', strategy: 'macd-td' as const, vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 250, enabled: true }];

beforeAll(async () => {
  const a = freshDir('auth-ro');
  const b = freshDir('auth-ctl');
  cleanups.push(a.remove, b.remove);
  readOnly = await startHarness({ dataDir: a.dir, controlEnabled: false, settings: { demo: { enabled: true, speed: 600, seed: 5 }, variants } });
  control = await startHarness({ dataDir: b.dir, controlEnabled: true, settings: { demo: { enabled: true, speed: 600, seed: 5 }, variants } });
});

afterAll(async () => {
  await readOnly.stop();
  await control.stop();
  for (const c of cleanups) c();
});

const get = (h: Harness, path: string, headers: Record<string, string> = {}) => fetch(`${h.baseUrl}${path}`, { headers });
const post = (h: Harness, path: string, token: string | null) =>
  fetch(`${h.baseUrl}${path}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

describe('headless host: token and control', () => {
  it('refuses every API request without a valid token (401)', async () => {
    expect((await get(readOnly, '/api/variants')).status).toBe(401);
    expect((await get(readOnly, '/api/status', { authorization: 'Bearer wrong-token-123' })).status).toBe(401);
    expect((await get(readOnly, '/api/events')).status).toBe(401);
    expect((await post(control, '/api/variants/demo-15m/stop', null)).status).toBe(401);
    const ok = await get(readOnly, '/api/variants', { authorization: `Bearer ${readOnly.token}` });
    expect(ok.status).toBe(200);
    expect((await get(readOnly, `/api/status?token=${readOnly.token}`)).status).toBe(200);
  });

  it('refuses commands when control is not enabled (403), and audits the refusal', async () => {
    const res = await post(readOnly, '/api/variants/demo-15m/stop', readOnly.token);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toMatch(/--allow-control/);
    expect(readOnly.workstation.summaryOf('demo-15m').status).not.toBe('stopped');
    const db = new Database(join(readOnly.workstation.dataDir, 'kestrel.db'), { readonly: true });
    const rows = db.prepare("SELECT origin, action, target, outcome FROM audit WHERE action = 'stopVariant'").all();
    db.close();
    expect(rows).toEqual([{ origin: 'rest', action: 'stopVariant', target: 'demo-15m', outcome: 'refused' }]);
  });

  it('serves commands with control enabled: stop, then start', async () => {
    await waitFor('running', () => control.workstation.summaryOf('demo-15m').status === 'running', 30_000);
    const stop = await post(control, '/api/variants/demo-15m/stop', control.token);
    expect(stop.status).toBe(200);
    expect(control.workstation.summaryOf('demo-15m').status).toBe('stopped');
    const start = await post(control, '/api/variants/demo-15m/start', control.token);
    expect(start.status).toBe(200);
    await waitFor('running again', () => control.workstation.summaryOf('demo-15m').status === 'running', 30_000);
  });

  it('the kill switch halts every variant and resumes them, audited; read-only hosts refuse it', async () => {
    const refused = await fetch(`${readOnly.baseUrl}/api/halt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ halted: true }),
    });
    expect(refused.status).toBe(403);
    await waitFor('running', () => control.workstation.summaryOf('demo-15m').status === 'running', 30_000);
    const halt = await fetch(`${control.baseUrl}/api/halt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ halted: true }),
    });
    expect(halt.status).toBe(200);
    await waitFor('halted', () => control.workstation.summaryOf('demo-15m').status === 'halted', 30_000);
    expect(control.workstation.summaryOf('demo-15m').halted).toBe(true);
    expect(control.alerts.some((a) => a.title === 'Trading halted')).toBe(true);
    const resume = await fetch(`${control.baseUrl}/api/halt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${control.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ halted: false, variant: 'demo-15m' }),
    });
    expect(resume.status).toBe(200);
    await waitFor('running again', () => control.workstation.summaryOf('demo-15m').status === 'running', 30_000);
    expect(control.workstation.summaryOf('demo-15m').halted).toBe(false);
    const db = new Database(join(control.workstation.dataDir, 'kestrel.db'), { readonly: true });
    const rows = db.prepare("SELECT target, outcome, params FROM audit WHERE action = 'setTradingHalted' ORDER BY id").all();
    db.close();
    expect(rows).toEqual([
      { target: '*', outcome: 'ok', params: JSON.stringify({ variant: null, halted: true }) },
      { target: 'demo-15m', outcome: 'ok', params: JSON.stringify({ variant: 'demo-15m', halted: false }) },
    ]);
  });

  it('refuses a WebSocket without the token, and pushes events with it', async () => {
    const refused = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${readOnly.baseUrl.replace('http', 'ws')}/api/ws`);
      ws.on('unexpected-response', (_req, res) => resolve(String(res.statusCode)));
      ws.on('open', () => resolve('open'));
      ws.on('error', () => resolve('error'));
    });
    expect(refused).toBe('401');
    const ws = new WebSocket(`${readOnly.baseUrl.replace('http', 'ws')}/api/ws?token=${readOnly.token}`);
    const frame = await new Promise<{ event: string; payload: { summary: { variant: string } } }>((resolve, reject) => {
      ws.on('message', (data) => resolve(JSON.parse(String(data)) as never));
      ws.on('error', reject);
    });
    ws.close();
    expect(frame.event).toBe('variantUpdated');
    expect(frame.payload.summary.variant).toBe('demo-15m');
  });

  it('streams events over SSE with ?token= (for EventSource)', async () => {
    const controller = new AbortController();
    const res = await fetch(`${readOnly.baseUrl}/api/events?token=${readOnly.token}`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!/event: variantUpdated\ndata: \{/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toMatch(/event: variantUpdated\ndata: \{"summary":\{"variant":"demo-15m"/);
  });
});
