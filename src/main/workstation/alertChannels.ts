import { createTransport, type Transporter } from 'nodemailer';
import type { Alert, AlertLevel } from '../../shared/api.js';
import { alertLevelAtLeast } from '../../shared/alertLevels.js';
import { webhookNotConfirmed, type AlertChannels, type EmailChannel, type TelegramChannel, type WebhookChannel } from '../../shared/config.js';
import { isLoopbackHost, urlHost } from '../../shared/loopback.js';

export const ALERT_CHANNEL_NAMES = ['webhook', 'email', 'telegram'] as const;
export type AlertChannelName = (typeof ALERT_CHANNEL_NAMES)[number];

export interface ChannelStats {
  sent: number;
  failed: number;
  /** Alerts not even tried because too many deliveries were still under way on the channel. */
  dropped: number;
  lastError: string | null;
  lastErrorAt: string | null;
}
export type DeliveryStats = Record<AlertChannelName, ChannelStats>;

export interface AlertRouterOptions {
  channels: AlertChannels;
  /** Per attempt; default 5000 ms. */
  timeoutMs?: number;
  /** Before the one retry; default 1000 ms. */
  retryDelayMs?: number;
  /** Where failures are written (the main log). */
  log?: (line: string) => void;
  clock?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_RETRY_DELAY_MS = 1000;
/** A dead server must not pile up sockets: beyond this many deliveries under way, a channel drops alerts (counted). */
const MAX_IN_FLIGHT = 20;
/** Telegram refuses longer messages. */
const TELEGRAM_MAX_TEXT = 4096;

/** A failure retrying cannot mend (the server refused the request itself): not retried. */
class PermanentFailure extends Error {}

function messageOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error && cause.message !== err.message ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

/** The alert as a trader reads it on a phone: level and title first. */
export function alertText(alert: Alert): string {
  const lines = [`[${alert.level}] ${alert.title}`];
  if (alert.variant) lines.push(`variant: ${alert.variant}`);
  if (alert.message) lines.push(alert.message);
  lines.push(`at ${alert.time}`);
  if (Object.keys(alert.context).length > 0) lines.push(`context: ${JSON.stringify(alert.context)}`);
  return lines.join('\n');
}

async function postJson(url: string, body: unknown, timeoutMs: number): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'kestrel-alerts' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  // The body is not needed; reading it frees the connection.
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const detail = `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  // 408 and 429 are the server asking to try later; other 4xx is the request (URL, token, chat) being wrong.
  if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new PermanentFailure(detail);
  throw new Error(detail);
}

/** Rejects after ms unless the work settled first; the timer never outlives it. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_ok, fail) => {
    timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Why the webhook may not be posted to (its host is not loopback and nothing confirmed it);
 * null when it may. The schema says the same; this holds for settings that bypassed it.
 */
export function webhookRefusal(channel: Pick<WebhookChannel, 'url' | 'allowNonLoopback'>): string | null {
  const host = urlHost(channel.url);
  if (host === null) return `the webhook URL "${channel.url}" is not a URL`;
  return channel.allowNonLoopback || isLoopbackHost(host) ? null : webhookNotConfirmed(host);
}

/**
 * Sends each alert to the webhook, e-mail and Telegram channels whose minimum level it
 * reaches. `deliver` returns at once: sending happens in the background, each attempt
 * bounded by a timeout, retried once at most; a failure is logged and counted, never thrown.
 */
export class AlertRouter {
  private readonly timeoutMs: number;
  private readonly retryDelayMs: number;
  private readonly clock: () => number;
  private readonly stats: DeliveryStats;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly inFlightBy: Record<AlertChannelName, number> = { webhook: 0, email: 0, telegram: 0 };
  private mailer: Transporter | null = null;
  private closed = false;

  constructor(private readonly opts: AlertRouterOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retryDelayMs = opts.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.clock = opts.clock ?? Date.now;
    const zero = (): ChannelStats => ({ sent: 0, failed: 0, dropped: 0, lastError: null, lastErrorAt: null });
    this.stats = { webhook: zero(), email: zero(), telegram: zero() };
  }

  /** The channels that are configured and switched on. */
  enabledChannels(): AlertChannelName[] {
    return ALERT_CHANNEL_NAMES.filter((name) => this.opts.channels[name]?.enabled === true);
  }

  deliver(alert: Alert): void {
    if (this.closed) return;
    const { webhook, email, telegram } = this.opts.channels;
    if (this.routes(webhook, alert)) this.send('webhook', alert, () => this.sendWebhook(webhook, alert));
    if (this.routes(email, alert)) this.send('email', alert, () => this.sendEmail(email, alert));
    if (this.routes(telegram, alert)) this.send('telegram', alert, () => this.sendTelegram(telegram, alert));
  }

  deliveryStats(): DeliveryStats {
    return structuredClone(this.stats);
  }

  /** Resolves when every delivery under way has succeeded or failed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops taking alerts and closes the SMTP connection; deliveries under way end on their own timeouts. */
  close(): void {
    this.closed = true;
    this.mailer?.close();
    this.mailer = null;
  }

  private routes<C extends { enabled: boolean; minLevel: AlertLevel }>(channel: C | null, alert: Alert): channel is C {
    return channel !== null && channel.enabled && alertLevelAtLeast(alert.level, channel.minLevel);
  }

  private send(name: AlertChannelName, alert: Alert, attempt: () => Promise<void>): void {
    const stats = this.stats[name];
    if (this.inFlightBy[name] >= MAX_IN_FLIGHT) {
      stats.dropped++;
      this.opts.log?.(`alert channel ${name}: "${alert.title}" dropped, ${MAX_IN_FLIGHT} deliveries still under way`);
      return;
    }
    this.inFlightBy[name]++;
    const run = (async () => {
      try {
        try {
          await within(this.timeoutMs + 500, name, attempt());
        } catch (first) {
          if (first instanceof PermanentFailure || this.closed) throw first;
          this.opts.log?.(`alert channel ${name}: "${alert.title}" failed (${messageOf(first)}); retrying once`);
          await new Promise((r) => setTimeout(r, this.retryDelayMs));
          await within(this.timeoutMs + 500, name, attempt());
        }
        stats.sent++;
      } catch (err) {
        stats.failed++;
        stats.lastError = messageOf(err);
        stats.lastErrorAt = new Date(this.clock()).toISOString();
        this.opts.log?.(`alert channel ${name}: "${alert.title}" not delivered: ${stats.lastError}`);
      } finally {
        this.inFlightBy[name]--;
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
  }

  private sendWebhook(channel: WebhookChannel, alert: Alert): Promise<void> {
    const refusal = webhookRefusal(channel);
    if (refusal !== null) return Promise.reject(new PermanentFailure(`not posted: ${refusal}`));
    return postJson(channel.url, alert, this.timeoutMs);
  }

  private sendTelegram(channel: TelegramChannel, alert: Alert): Promise<void> {
    const base = channel.baseUrl.replace(/\/+$/, '');
    const text = alertText(alert).slice(0, TELEGRAM_MAX_TEXT);
    return postJson(`${base}/bot${channel.botToken}/sendMessage`, { chat_id: channel.chatId, text, disable_web_page_preview: true }, this.timeoutMs);
  }

  private async sendEmail(channel: EmailChannel, alert: Alert): Promise<void> {
    this.mailer ??= createTransport({
      host: channel.host,
      port: channel.port,
      secure: channel.secure,
      ...(channel.user ? { auth: { user: channel.user, pass: channel.password ?? '' } } : {}),
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      socketTimeout: this.timeoutMs,
    });
    await this.mailer.sendMail({
      from: channel.from,
      to: channel.to,
      subject: `[Kestrel ${alert.level}] ${alert.title}${alert.variant ? ` (${alert.variant})` : ''}`,
      text: alertText(alert),
    });
  }
}
