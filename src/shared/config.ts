import { z } from 'zod';
import { ALERT_LEVELS } from './alertLevels.js';
import { allocationSettingsSchema } from './allocation.js';
import { ROLL_POLICIES } from './contractRoll.js';
import { variantNameSchema } from './snapshot.js';
import { strategyNames, strategyParamsSchemaOf } from './strategyParams.js';
import { isLoopbackHost, urlHost } from './loopback.js';

/** One variant = one strategy with its parameters, run in its own worker process. */
const vtSymbolSchema = z.string().regex(/^[^.\s]+\.[A-Za-z0-9_]+$/, 'vtSymbol is SYMBOL.EXCHANGE, e.g. rb2501.SHFE');

export const variantConfigSchema = z
  .object({
  name: variantNameSchema,
  /** The strategy's registered name (src/core/strategy/registry.ts); `params` are validated by its schema. */
  strategy: z.string().min(1).default('macd-td'),
  /**
   * The contract, e.g. rb2501.SHFE; or a product alone, e.g. rb.SHFE, to trade whichever
   * contract of it is dominant in the bar store (kept in the variant's state once chosen).
   */
  vtSymbol: vtSymbolSchema,
  /**
   * More instruments of the variant's universe, products (rb.SHFE) or contracts (rb2505.SHFE),
   * traded besides `vtSymbol`; their 1-minute bars are merged on the time axis.
   */
  universe: z.array(vtSymbolSchema).default([]),
  windowMinutes: z
    .number()
    .int()
    .refine((n) => 60 % n === 0, 'windowMinutes must divide 60 (1, 2, 3, 5, 10, 15, 20, 30, 60)'),
  /**
   * How often the worker polls a SQLite bar store for new 1-minute rows. The worker also watches
   * the file and reads a commit within milliseconds; this poll is the fallback for a missed event.
   * (MySQL is polled at the bar source's own `pollMs`.)
   */
  pollMs: z.number().int().min(20).max(60_000).default(250),
  enabled: z.boolean().default(true),
  /** Strategy, risk-gate and paper-broker parameters, validated by the strategy's own schema. */
  params: z.record(z.string(), z.unknown()).default({}),
  /** Where bars come from: follow the bar store live, or replay a stored range at a speed. */
  feed: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('follow') }),
      z.object({
        kind: z.literal('replay'),
        /** 'YYYY-MM-DD HH:MM:SS' exchange time; the range is inclusive. */
        from: z.string(),
        to: z.string().nullable().default(null),
        /** Simulated minutes per real minute. */
        speed: z.number().positive().max(1_000_000).default(600),
      }),
    ])
    .default({ kind: 'follow' }),
  /** Report the feed as stalled after this many expected bar intervals without a new bar. */
  stallAfterBars: z.number().int().positive().default(5),
  /** What a contract roll does with an open position: move it to the new contract, close it, or keep it where it is. */
  roll: z.enum(ROLL_POLICIES).default('move'),
  /** A contract becomes active when it had more volume than the active one on each of this many last trading days. */
  rollDays: z.number().int().min(1).max(20).default(2),
  })
  .transform((v, ctx) => {
    const schema = strategyParamsSchemaOf(v.strategy);
    if (schema === null) {
      ctx.addIssue({ code: 'custom', path: ['strategy'], message: `unknown strategy ${JSON.stringify(v.strategy)}; known: ${strategyNames().join(', ')}` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(v.params);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: ['params', ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))], message: issue.message });
      return z.NEVER;
    }
    return { ...v, params: parsed.data as Record<string, unknown> };
  });
export type VariantConfig = z.infer<typeof variantConfigSchema>;
export type VariantConfigInput = z.input<typeof variantConfigSchema>;

/** How often workers poll a MySQL bar store when its `pollMs` is not set. */
export const MYSQL_POLL_MS = 1_000;

export const barSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sqlite'), path: z.string().nullable().default(null) }),
  z.object({
    kind: z.literal('mysql'),
    url: z.string().regex(/^mysql:\/\//, 'a MySQL URL starts with mysql://'),
    /** MySQL tells nobody of a commit: workers poll it this often for new 1-minute rows (default MYSQL_POLL_MS). */
    pollMs: z.number().int().min(50).max(60_000).optional(),
  }),
]);
export type BarSource = z.infer<typeof barSourceSchema>;

/** A channel gets what is at or above its minimum level. */
export const alertMinLevelSchema = z.enum(ALERT_LEVELS, { error: 'the minimum level is INFO, WARNING, ERROR or CRITICAL' });

function httpUrl(what: string) {
  return z.url({ protocol: /^https?$/, error: `${what} is an http:// or https:// URL, e.g. https://hooks.example.com/kestrel` });
}

const portSchema = z
  .number({ error: 'the SMTP port is a whole number from 1 to 65535 (587 STARTTLS, 465 TLS, 25 plain)' })
  .int('the SMTP port is a whole number from 1 to 65535 (587 STARTTLS, 465 TLS, 25 plain)')
  .min(1, 'the SMTP port is a whole number from 1 to 65535 (587 STARTTLS, 465 TLS, 25 plain)')
  .max(65_535, 'the SMTP port is at most 65535');

/** The message when a webhook host is not loopback and allowNonLoopback is not set. */
export function webhookNotConfirmed(host: string): string {
  return `the webhook host ${host} is not this machine: alerts would leave it; to confirm, set alerts.webhook.allowNonLoopback (Settings: "Post beyond this machine")`;
}

export const webhookChannelSchema = z
  .object({
    url: httpUrl('the webhook'),
    minLevel: alertMinLevelSchema.default('WARNING'),
    enabled: z.boolean().default(true),
    /** The operator's confirmation that alerts may be posted to a host that is not loopback. */
    allowNonLoopback: z.boolean().default(false),
  })
  .superRefine((w, ctx) => {
    const host = urlHost(w.url);
    if (host !== null && !w.allowNonLoopback && !isLoopbackHost(host)) ctx.addIssue({ code: 'custom', path: ['url'], message: webhookNotConfirmed(host) });
  });

export const emailChannelSchema = z.object({
  host: z.string().trim().min(1, 'the SMTP host is a server name or address, e.g. smtp.example.com'),
  port: portSchema.default(587),
  /** true: TLS from the first byte (port 465); false: plain, upgraded with STARTTLS when the server offers it. */
  secure: z.boolean().default(false),
  user: z.string().optional(),
  /** Shown as *** by getSettings; sending *** back keeps the stored one. */
  password: z.string().optional(),
  from: z.email({ error: 'the sender is an e-mail address, e.g. kestrel@example.com' }),
  to: z
    .array(z.email({ error: 'each recipient is an e-mail address, e.g. trader@example.com' }))
    .min(1, 'at least one recipient'),
  minLevel: alertMinLevelSchema.default('ERROR'),
  enabled: z.boolean().default(true),
});

export const telegramChannelSchema = z.object({
  /** The bot API's address; another one serves a proxy or a self-hosted Bot API server. */
  baseUrl: httpUrl('the Telegram API base URL').default('https://api.telegram.org'),
  /** Shown as *** by getSettings; sending *** back keeps the stored one. */
  botToken: z.string().trim().min(1, 'the bot token is what @BotFather gave, e.g. 123456:ABC-DEF…'),
  chatId: z.string().trim().min(1, 'the chat id is a number (e.g. -1001234567890) or @channelname'),
  minLevel: alertMinLevelSchema.default('WARNING'),
  enabled: z.boolean().default(true),
});

/** Where alerts go beyond the desktop notification; null: the channel is not configured. */
export const alertChannelsSchema = z.object({
  webhook: webhookChannelSchema.nullable().default(null),
  email: emailChannelSchema.nullable().default(null),
  telegram: telegramChannelSchema.nullable().default(null),
  /** The same alert key is not raised again (on any channel) within this many seconds. */
  quietSeconds: z
    .number({ error: 'the quiet period is a whole number of seconds (0: none)' })
    .int('the quiet period is a whole number of seconds (0: none)')
    .min(0, 'the quiet period is a whole number of seconds (0: none)')
    .max(86_400, 'the quiet period is at most 86400 s (a day)')
    .default(60),
});
export type AlertChannels = z.infer<typeof alertChannelsSchema>;
export type WebhookChannel = z.infer<typeof webhookChannelSchema>;
export type EmailChannel = z.infer<typeof emailChannelSchema>;
export type TelegramChannel = z.infer<typeof telegramChannelSchema>;

/** The message when the metrics host is not loopback and allowNonLoopback is not set. */
export function metricsNotConfirmed(host: string): string {
  return `the metrics host ${host} is not loopback: GET /metrics (no token) would be open to the network; to confirm, set metrics.allowNonLoopback (Settings: "Serve beyond this machine")`;
}

/** The BullMQ queue backtests go to when none is named (workstation, CLI and workers alike). */
export const DEFAULT_BACKTEST_QUEUE_NAME = 'kestrel-backtests';

/** The message when the backtest queue's Redis host is not loopback and allowNonLoopback is not set. */
export function backtestQueueNotConfirmed(host: string): string {
  return `the backtest queue's Redis host ${host} is not this machine: jobs (strategy, parameters, symbols) would leave it; to confirm, set backtest.allowNonLoopback (Settings: "Queue beyond this machine")`;
}

/** A Redis URL as the backtest queue takes it; null when the text is not one. */
export function redisQueueUrl(text: string): URL | null {
  try {
    const u = new URL(text);
    return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '' ? u : null;
  } catch {
    return null;
  }
}

/**
 * Where the workstation's backtests run: 'local' (the job runner's threads, the default: nobody
 * needs Redis) or a BullMQ queue on Redis that `kestrel backtest-worker` processes take jobs from.
 */
export const backtestSettingsSchema = z
  .object({
    queue: z
      .string()
      .trim()
      .default('local')
      .refine((q) => q === 'local' || redisQueueUrl(q) !== null, "the backtest queue is 'local' or a Redis URL, e.g. redis://127.0.0.1:6379"),
    /** The BullMQ queue's name; the workers must be started with the same --queue-name. */
    queueName: z.string().trim().min(1, 'the queue name is a word, e.g. kestrel-backtests').max(128).default(DEFAULT_BACKTEST_QUEUE_NAME),
    /** The operator's confirmation that jobs may go to a Redis that is not on this machine. */
    allowNonLoopback: z.boolean().default(false),
  })
  .superRefine((b, ctx) => {
    const url = b.queue === 'local' ? null : redisQueueUrl(b.queue);
    if (url && !b.allowNonLoopback && !isLoopbackHost(url.hostname)) ctx.addIssue({ code: 'custom', path: ['queue'], message: backtestQueueNotConfirmed(url.hostname) });
  });
export type BacktestSettings = z.infer<typeof backtestSettingsSchema>;

/**
 * Desktop and headless settings (settings.json through SettingsFile) share this schema.
 * Command-line flags override it for one run.
 */
export const settingsSchema = z.object({
  dataDir: z.string().nullable().default(null),
  barSource: barSourceSchema.default({ kind: 'sqlite', path: null }),
  demo: z
    .object({
      enabled: z.boolean().default(true),
      speed: z.number().positive().max(100_000).default(60),
      seed: z.number().int().default(20260101),
      /** Also a simulated 24/7 crypto market (exchange SIMC) with grid variants in one allocation group. */
      crypto: z.boolean().default(false),
    })
    .default({ enabled: true, speed: 60, seed: 20260101, crypto: false }),
  variants: z.array(variantConfigSchema).default([]),
  supervisor: z
    .object({
      backoffInitialMs: z.number().int().positive().default(500),
      backoffMaxMs: z.number().int().positive().default(30_000),
      /** Crashes within crashWindowMs after which a variant is marked crashed and left down. */
      maxCrashes: z.number().int().positive().default(5),
      crashWindowMs: z.number().int().positive().default(60_000),
    })
    .default({ backoffInitialMs: 500, backoffMaxMs: 30_000, maxCrashes: 5, crashWindowMs: 60_000 }),
  /** The Prometheus endpoint (GET /metrics). Read at start; `kestrel serve --metrics-port` overrides the port. */
  metrics: z
    .object({
      /** null: no endpoint. 0: any free port, chosen at start (tests; the actual port is printed). */
      port: z
        .number({ error: 'the metrics port is a whole number from 1 to 65535 (empty: off)' })
        .int('the metrics port is a whole number from 1 to 65535 (empty: off)')
        .min(0, 'the metrics port is a whole number from 1 to 65535 (empty: off)')
        .max(65_535, 'the metrics port is at most 65535')
        .nullable()
        .default(null),
      /** The address the endpoint binds; anything but loopback serves the metrics to the network, unauthenticated. */
      host: z.string().trim().min(1, 'the metrics host is an address to bind, e.g. 127.0.0.1').default('127.0.0.1'),
      /** The money a variant's drawdown ratio (kestrel_variant_drawdown_ratio) is measured against. */
      capital: z.number({ error: 'the drawdown capital is an amount of money' }).finite().positive('the drawdown capital is more than 0').default(1_000_000),
      /**
       * The operator's confirmation that a host that is not loopback may be bound. The command
       * line's own address (--metrics-addr, KESTREL_METRICS_ADDR) is that confirmation already.
       */
      allowNonLoopback: z.boolean().default(false),
    })
    .prefault({})
    .superRefine((m, ctx) => {
      if (m.host !== '' && !m.allowNonLoopback && !isLoopbackHost(m.host)) ctx.addIssue({ code: 'custom', path: ['host'], message: metricsNotConfirmed(m.host) });
    }),
  alerts: alertChannelsSchema.prefault({}),
  /** Allocation groups: grids on several symbols sharing one pot of money (DOMAIN.md). */
  allocation: allocationSettingsSchema.prefault({}),
  backtest: backtestSettingsSchema.prefault({}),
  shutdown: z
    .object({
      /** Quit, SIGTERM/SIGINT: what is not done within this bound is killed (and the main log says so). */
      timeoutMs: z.number().int('the shutdown bound is a whole number of milliseconds').min(1_000, 'the shutdown bound is at least 1000 ms').max(600_000).default(15_000),
    })
    .prefault({}),
}).superRefine((settings, ctx) => {
  // A variant that names an allocation group must be one of its members trading one of its symbols,
  // or the group would never wait for it and would refuse every buy it asks for.
  settings.variants.forEach((v, i) => {
    const name = (v.params as { group?: unknown }).group;
    if (typeof name !== 'string') return;
    const path = ['variants', i, 'params', 'group'];
    const group = settings.allocation.groups.find((g) => g.name === name);
    if (group === undefined) {
      const known = settings.allocation.groups.map((g) => g.name);
      ctx.addIssue({ code: 'custom', path, message: `no allocation group named ${name}${known.length > 0 ? ` (groups: ${known.join(', ')})` : ' (add one under Allocation groups)'}` });
    } else if (!group.members.includes(v.name)) {
      ctx.addIssue({ code: 'custom', path, message: `${v.name} is not a member of allocation group ${name}: add it to the group's members` });
    } else if (!group.symbols.some((s) => s.symbol === v.vtSymbol)) {
      ctx.addIssue({ code: 'custom', path, message: `allocation group ${name} has no symbol ${v.vtSymbol}: add it to the group's symbols` });
    }
  });
});
export type Settings = z.infer<typeof settingsSchema>;
