import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { AlertCenter } from '../../src/main/workstation/alertCenter.js';
import { AlertRouter, webhookRefusal } from '../../src/main/workstation/alertChannels.js';
import { EventBus } from '../../src/main/workstation/eventBus.js';
import type { Alert } from '../../src/shared/api.js';
import { alertChannelsSchema, type AlertChannels } from '../../src/shared/config.js';
import type { SettingsView, UpdateSettingsResult } from '../../src/shared/contract/settings.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';

interface Received {
  path: string;
  body: unknown;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function listen(server: Server | SMTPServer): Promise<number> {
  return new Promise((resolve, reject) => {
    // smtp-server keeps its net.Server in `.server`.
    const net = server instanceof SMTPServer ? (server as unknown as { server: Server }).server : server;
    net.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((net.address() as AddressInfo).port));
  });
}

/** An HTTP server that records each POST; `hang` keeps every request open, unanswered. */
async function httpServer(opts: { hang?: boolean; status?: number } = {}): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const open: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(text) as unknown });
      if (opts.hang) {
        open.push(res);
        return;
      }
      res.writeHead(opts.status ?? 200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  const port = await listen(server);
  closers.push(
    () =>
      new Promise((r) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, received };
}

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** A real SMTP server, plain and without authentication. */
async function smtpServer(): Promise<{ port: number; mails: Mail[] }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, done) {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        });
        done();
      });
    },
  });
  const port = await listen(server);
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { port, mails };
}

function channels(input: unknown): AlertChannels {
  return alertChannelsSchema.parse(input);
}

function center(router: AlertRouter, quietMs = 60_000): AlertCenter {
  return new AlertCenter(new EventBus(), (a) => router.deliver(a), quietMs);
}

function track(router: AlertRouter): AlertRouter {
  closers.push(async () => {
    await router.idle();
    router.close();
  });
  return router;
}

describe('alert channels', () => {
  it('webhook beyond this machine: refused without allowNonLoopback (nothing posted), allowed with it', async () => {
    const far = 'http://203.0.113.7/hook';
    expect(webhookRefusal({ url: far, allowNonLoopback: false })).toContain('set alerts.webhook.allowNonLoopback');
    expect(webhookRefusal({ url: far, allowNonLoopback: true })).toBeNull();
    expect(webhookRefusal({ url: 'http://localhost:9/hook', allowNonLoopback: false })).toBeNull();
    expect(webhookRefusal({ url: 'http://[::1]:9/hook', allowNonLoopback: false })).toBeNull();
    expect(webhookRefusal({ url: 'http://127.0.0.1.example.com/hook', allowNonLoopback: false })).not.toBeNull();
    // Settings that bypassed the schema (built in code, or edited by hand): the router holds too, without a connection.
    const log: string[] = [];
    const router = track(new AlertRouter({ channels: { ...channels({}), webhook: { url: far, minLevel: 'INFO', enabled: true, allowNonLoopback: false } }, log: (l) => log.push(l) }));
    center(router).raise({ level: 'CRITICAL', variant: null, title: 'Risk limit hit', message: '' });
    await router.idle();
    expect(router.deliveryStats().webhook).toMatchObject({ sent: 0, failed: 1 });
    expect(router.deliveryStats().webhook.lastError).toBe('not posted: the webhook host 203.0.113.7 is not this machine: alerts would leave it; to confirm, set alerts.webhook.allowNonLoopback (Settings: "Post beyond this machine")');
    expect(log.filter((l) => l.includes('retrying'))).toEqual([]);
  });

  it('webhook: posts the alert JSON, routed by minimum level', async () => {
    const hook = await httpServer();
    const router = track(new AlertRouter({ channels: channels({ webhook: { url: `${hook.url}/hook`, minLevel: 'WARNING' } }) }));
    const alerts = center(router);
    alerts.raise({ level: 'INFO', variant: 'demo-15m', title: 'Restored', message: 'from the snapshot' });
    const critical = alerts.raise({ level: 'CRITICAL', variant: 'demo-15m', title: 'Worker crashed: giving up', message: '5 crashes in 60 s', context: { crashes: 5 } });
    alerts.raise({ level: 'WARNING', variant: null, title: 'Metrics not served', message: 'port in use' });
    await router.idle();
    expect(hook.received.map((r) => r.path)).toEqual(['/hook', '/hook']);
    expect(hook.received[0]!.body).toEqual(critical);
    expect((hook.received[1]!.body as Alert).title).toBe('Metrics not served');
    expect(router.deliveryStats().webhook).toMatchObject({ sent: 2, failed: 0 });
  });

  it('Telegram: POST {baseUrl}/bot<token>/sendMessage with chat_id and the title in the text', async () => {
    const bot = await httpServer();
    const router = track(
      new AlertRouter({ channels: channels({ telegram: { baseUrl: `${bot.url}/tg/`, botToken: '123456:ABC-def_9', chatId: '-1001234567890', minLevel: 'ERROR' } }) }),
    );
    const alerts = center(router);
    alerts.raise({ level: 'WARNING', variant: 'demo-30m', title: 'Snapshot stale', message: 'no update for 5 bars' });
    alerts.raise({ level: 'ERROR', variant: 'demo-30m', title: 'Order rejected', message: 'price outside the limit' });
    await router.idle();
    expect(bot.received).toHaveLength(1);
    expect(bot.received[0]!.path).toBe('/tg/bot123456:ABC-def_9/sendMessage');
    const body = bot.received[0]!.body as { chat_id: string; text: string };
    expect(body.chat_id).toBe('-1001234567890');
    expect(body.text).toContain('Order rejected');
    expect(body.text).toContain('[ERROR]');
    expect(body.text).toContain('demo-30m');
  });

  it('e-mail: a real SMTP server receives the alert with its title in the subject', async () => {
    const smtp = await smtpServer();
    const router = track(
      new AlertRouter({
        channels: channels({
          email: { host: '127.0.0.1', port: smtp.port, secure: false, from: 'kestrel@example.com', to: ['trader@example.com', 'desk@example.com'], minLevel: 'ERROR' },
        }),
      }),
    );
    const alerts = center(router);
    alerts.raise({ level: 'WARNING', variant: null, title: 'Not mailed', message: 'below the minimum level' });
    alerts.raise({ level: 'CRITICAL', variant: 'demo-i-15m', title: 'Drawdown over threshold', message: 'drawdown 12.5 %' });
    await router.idle();
    expect(router.deliveryStats().email).toMatchObject({ sent: 1, failed: 0 });
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.from).toBe('kestrel@example.com');
    expect(mail.to).toEqual(['trader@example.com', 'desk@example.com']);
    expect(mail.raw).toMatch(/^Subject: \[Kestrel CRITICAL\] Drawdown over threshold \(demo-i-15m\)\r?$/m);
    expect(mail.raw).toContain('drawdown 12.5 %');
  });

  it('a refused or hanging channel never delays raise, is logged and counted after its timeout, and the others still deliver', async () => {
    const good = await httpServer();
    const hanging = await httpServer({ hang: true });
    const refused = await closedPort();
    const log: string[] = [];
    const router = track(
      new AlertRouter({
        channels: channels({
          webhook: { url: `${hanging.url}/hook`, minLevel: 'INFO' },
          telegram: { baseUrl: `http://127.0.0.1:${refused}`, botToken: '1:x', chatId: '42', minLevel: 'INFO' },
          email: { host: '127.0.0.1', port: refused, from: 'kestrel@example.com', to: ['trader@example.com'], minLevel: 'INFO' },
        }),
        timeoutMs: 300,
        retryDelayMs: 20,
        log: (line) => log.push(line),
      }),
    );
    const other = track(new AlertRouter({ channels: channels({ webhook: { url: good.url, minLevel: 'INFO' } }) }));
    const alerts = new AlertCenter(new EventBus(), (a) => {
      router.deliver(a);
      other.deliver(a);
    });
    const raised = alerts.raise({ level: 'ERROR', variant: 'demo-15m', title: 'Risk limit hit', message: 'daily loss' });
    // raise has returned: nothing has failed yet, since failing takes at least a connection attempt.
    expect(raised).not.toBeNull();
    expect(router.deliveryStats().webhook.failed + router.deliveryStats().telegram.failed + router.deliveryStats().email.failed).toBe(0);
    await router.idle();
    await other.idle();
    const stats = router.deliveryStats();
    for (const name of ['webhook', 'telegram', 'email'] as const) {
      expect(stats[name], name).toMatchObject({ sent: 0, failed: 1 });
      expect(stats[name].lastError, name).not.toBeNull();
    }
    // The hanging server saw the first attempt and the one retry, no more.
    expect(hanging.received).toHaveLength(2);
    expect(log.filter((l) => l.includes('not delivered'))).toHaveLength(3);
    expect(log.some((l) => l.startsWith('alert channel webhook: "Risk limit hit" not delivered'))).toBe(true);
    expect(good.received).toHaveLength(1);
    expect((good.received[0]!.body as Alert).title).toBe('Risk limit hit');
  });

  it('a 4xx answer (wrong token, wrong chat) is not retried', async () => {
    const bot = await httpServer({ status: 401 });
    const log: string[] = [];
    const router = track(
      new AlertRouter({ channels: channels({ telegram: { baseUrl: bot.url, botToken: '1:wrong', chatId: '42', minLevel: 'INFO' } }), retryDelayMs: 20, log: (l) => log.push(l) }),
    );
    router.deliver(center(router).raise({ level: 'INFO', variant: null, title: 'x', message: '' })!);
    await router.idle();
    // Raised once through the center (delivered) and once by hand: two attempts, none retried.
    expect(bot.received).toHaveLength(2);
    expect(router.deliveryStats().telegram).toMatchObject({ sent: 0, failed: 2 });
    expect(router.deliveryStats().telegram.lastError).toContain('HTTP 401');
  });

  it('the quiet period suppresses a repeated key on every channel', async () => {
    const hook = await httpServer();
    const bot = await httpServer();
    const smtp = await smtpServer();
    let now = Date.parse('2026-03-02T09:00:00Z');
    const router = track(
      new AlertRouter({
        channels: channels({
          webhook: { url: hook.url, minLevel: 'INFO' },
          telegram: { baseUrl: bot.url, botToken: '1:t', chatId: '42', minLevel: 'INFO' },
          email: { host: '127.0.0.1', port: smtp.port, from: 'kestrel@example.com', to: ['trader@example.com'], minLevel: 'INFO' },
        }),
      }),
    );
    const alerts = new AlertCenter(new EventBus(), (a) => router.deliver(a), 60_000, () => now);
    const crash = { level: 'WARNING' as const, variant: 'demo-15m', title: 'Worker crashed: restarting', message: 'SIGKILL', key: 'demo-15m:crash' };
    expect(alerts.raise(crash)).not.toBeNull();
    now += 30_000;
    expect(alerts.raise(crash)).toBeNull();
    now += 31_000;
    expect(alerts.raise(crash)).not.toBeNull();
    await router.idle();
    expect(hook.received).toHaveLength(2);
    expect(bot.received).toHaveLength(2);
    expect(smtp.mails).toHaveLength(2);
  });

  it('disabled channels and channels left null send nothing', async () => {
    const hook = await httpServer();
    const router = track(new AlertRouter({ channels: channels({ webhook: { url: hook.url, minLevel: 'INFO', enabled: false } }) }));
    expect(router.enabledChannels()).toEqual([]);
    center(router).raise({ level: 'CRITICAL', variant: null, title: 'x', message: '' });
    await router.idle();
    expect(hook.received).toHaveLength(0);
  });
});

describe('alert channels through the real stack', () => {
  let harness: Harness | null = null;
  let cleanup: (() => void) | null = null;
  afterEach(async () => {
    await harness?.stop();
    harness = null;
    cleanup?.();
  });

  it('a demo worker killed with SIGKILL reaches the webhook as "Worker crashed: restarting"', async () => {
    const hook = await httpServer();
    const tmp = freshDir('alert-hook');
    cleanup = tmp.remove;
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: {
        demo: { enabled: true, speed: 600, seed: 11 },
        supervisor: { backoffInitialMs: 200, backoffMaxMs: 2_000, maxCrashes: 5, crashWindowMs: 60_000 },
        alerts: { webhook: { url: `${hook.url}/kestrel`, minLevel: 'WARNING' } },
        metrics: { port: 0 },
      },
    });
    const ws = harness.workstation;
    const first = await waitFor('demo-15m running', () => {
      const s = ws.summaryOf('demo-15m');
      return s.status === 'running' && s.pid !== null ? s : undefined;
    }, 30_000);
    process.kill(first.pid as number, 'SIGKILL');
    const crash = await waitFor('the webhook received the crash', () =>
      hook.received.map((r) => r.body as Alert).find((a) => a.title === 'Worker crashed: restarting' && a.variant === 'demo-15m'),
    20_000);
    expect(crash.level).toBe('WARNING');
    expect(crash.message).toContain('SIGKILL');
    expect(hook.received.every((r) => r.path === '/kestrel')).toBe(true);
    // The delivery counts reach the operator through GET /metrics.
    const metricsUrl = ws.metricsAddress()?.url;
    expect(metricsUrl).toBeDefined();
    const sent = await waitFor('the webhook delivery counted in /metrics', async () => {
      const text = await (await fetch(metricsUrl!)).text();
      const m = /^kestrel_alert_deliveries_total\{channel="webhook",outcome="sent"\} (\d+)$/m.exec(text);
      return m !== null && Number(m[1]) >= 1 ? Number(m[1]) : undefined;
    }, 10_000);
    expect(sent).toBeGreaterThanOrEqual(1);
    // INFO alerts (below the webhook's minimum) stayed on the desktop.
    expect(hook.received.some((r) => (r.body as Alert).level === 'INFO')).toBe(false);
  });
});

describe('alert channel settings', () => {
  let harness: Harness | null = null;
  let cleanup: (() => void) | null = null;
  afterEach(async () => {
    await harness?.stop();
    harness = null;
    cleanup?.();
  });

  it('validates each channel, hides the SMTP password and the bot token, and *** sent back keeps them', async () => {
    const tmp = freshDir('alert-settings');
    cleanup = tmp.remove;
    harness = await startHarness({ dataDir: tmp.dir, controlEnabled: true, settings: { demo: { enabled: false, speed: 60, seed: 1 } } });
    const h = harness;
    const rest = async <T>(path: string, body?: unknown): Promise<{ status: number; body: T; text: string }> => {
      const res = await fetch(h.baseUrl + path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${h.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text) as T, text };
    };
    const stored = (): { alerts: AlertChannels } => JSON.parse(readFileSync(join(tmp.dir, 'settings.json'), 'utf8')) as { alerts: AlertChannels };
    const current = (await rest<SettingsView>('/api/settings')).body.settings;
    expect(current.alerts).toEqual({ webhook: null, email: null, telegram: null, quietSeconds: 60 });

    const bad = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', {
      settings: {
        ...current,
        alerts: {
          webhook: { url: 'hooks.example.com/x', minLevel: 'WARNING', enabled: true },
          email: { host: '', port: 70_000, secure: false, from: 'kestrel', to: ['trader@example.com', 'nobody'], minLevel: 'LOUD', enabled: true },
          telegram: { baseUrl: 'ftp://api.telegram.org', botToken: '***', chatId: '', minLevel: 'INFO', enabled: true },
          quietSeconds: -1,
        },
      },
    });
    expect(bad.status).toBe(400);
    const byPath = Object.fromEntries(bad.body.fields.map((f) => [f.path, f.message]));
    expect(byPath).toEqual({
      'alerts.webhook.url': 'the webhook is an http:// or https:// URL, e.g. https://hooks.example.com/kestrel',
      'alerts.email.host': 'the SMTP host is a server name or address, e.g. smtp.example.com',
      'alerts.email.port': 'the SMTP port is at most 65535',
      'alerts.email.from': 'the sender is an e-mail address, e.g. kestrel@example.com',
      'alerts.email.to.1': 'each recipient is an e-mail address, e.g. trader@example.com',
      'alerts.email.minLevel': 'the minimum level is INFO, WARNING, ERROR or CRITICAL',
      'alerts.telegram.baseUrl': 'the Telegram API base URL is an http:// or https:// URL, e.g. https://hooks.example.com/kestrel',
      'alerts.telegram.botToken': 'the bot token is hidden (***): type it again',
      'alerts.telegram.chatId': 'the chat id is a number (e.g. -1001234567890) or @channelname',
      'alerts.quietSeconds': 'the quiet period is a whole number of seconds (0: none)',
    });

    // A host beyond this machine needs its confirmation; the message says which.
    const unconfirmed = await rest<{ fields: { path: string; message: string }[] }>('/api/settings', {
      settings: { ...current, alerts: { ...current.alerts, webhook: { url: 'https://hooks.example.com/kestrel', minLevel: 'WARNING', enabled: true } } },
    });
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.fields).toEqual([
      {
        path: 'alerts.webhook.url',
        message: 'the webhook host hooks.example.com is not this machine: alerts would leave it; to confirm, set alerts.webhook.allowNonLoopback (Settings: "Post beyond this machine")',
      },
    ]);

    const alerts = {
      webhook: { url: 'https://hooks.example.com/kestrel', minLevel: 'WARNING', enabled: true, allowNonLoopback: true },
      email: { host: 'smtp.example.com', port: 587, secure: false, user: 'kestrel', password: 'm4il-s3cret', from: 'kestrel@example.com', to: ['trader@example.com'], minLevel: 'ERROR', enabled: true },
      telegram: { baseUrl: 'https://api.telegram.org', botToken: '123456:t0ken-s3cret', chatId: '-100123', minLevel: 'CRITICAL', enabled: false },
      quietSeconds: 120,
    };
    const saved = await rest<UpdateSettingsResult>('/api/settings', { settings: { ...current, alerts } });
    expect(saved.status).toBe(200);
    expect(saved.body.restartNeeded).toEqual(['alerts']);
    expect(saved.text).not.toContain('s3cret');
    expect(saved.body.settings.alerts.email?.password).toBe('***');
    expect(saved.body.settings.alerts.telegram?.botToken).toBe('***');
    expect(stored().alerts).toEqual(alerts);
    const view = await rest<SettingsView>('/api/settings');
    expect(view.text).not.toContain('s3cret');
    // The page sends back what it was shown: the secrets stay as saved.
    const resaved = await rest<UpdateSettingsResult>('/api/settings', { settings: { ...view.body.settings, alerts: { ...view.body.settings.alerts, quietSeconds: 30 } } });
    expect(resaved.status).toBe(200);
    expect(stored().alerts).toEqual({ ...alerts, quietSeconds: 30 });
  });
});
