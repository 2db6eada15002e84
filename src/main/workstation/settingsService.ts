import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BarStoreUnavailableError, type BarStore } from '../../io/barStore.js';
import { MysqlBarStore, parseMysqlUrl, redactUrl } from '../../io/mysqlBarStore.js';
import { BAR_DB_FILE, isOwnBarDatabase } from '../../io/openBarStore.js';
import { SqliteBarStore } from '../../io/sqliteBarStore.js';
import { ApiError, fieldErrorsOfIssues, type ApiHandlers, type CallContext, type FieldError, type ValidParamsOf } from '../../shared/api.js';
import { settingsSchema, type AlertChannels, type BarSource, type Settings } from '../../shared/config.js';
import {
  REDACTED_PASSWORD,
  SETTINGS_SECTIONS,
  type SettingsSection,
  type SettingsView,
  type TestBarSourceResult,
  type UpdateSettingsResult,
} from '../../shared/contract/settings.js';
import { checkSettings, type CommandRunner, type SettingsStore } from './settingsStore.js';

export interface SettingsServiceOptions {
  /** Where the host keeps the settings; null: nothing can be saved (shown read-only). */
  store: SettingsStore | null;
  /** What the workstation runs with (the file plus command-line overrides). */
  running: Settings;
  dataDir: string;
  command: CommandRunner;
  /** How long "Test connection" waits for a MySQL server; default 3000 ms. */
  testTimeoutMs?: number;
}

const DEFAULT_TEST_TIMEOUT_MS = 3000;
const NOT_VNPY = 'not a vnpy bar database (or not readable by Kestrel)';

/** Key order must not make two equal settings look different. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function differingSections(a: Settings, b: Settings): SettingsSection[] {
  return SETTINGS_SECTIONS.filter((s) => canonical(a[s]) !== canonical(b[s]));
}

function redactSource(source: BarSource): BarSource {
  return source.kind === 'mysql' ? { kind: 'mysql', url: redactUrl(source.url) } : source;
}

function redactAlerts(alerts: AlertChannels): AlertChannels {
  const { email, telegram } = alerts;
  return {
    ...alerts,
    email: email && email.password !== undefined && email.password !== '' ? { ...email, password: REDACTED_PASSWORD } : email,
    telegram: telegram ? { ...telegram, botToken: REDACTED_PASSWORD } : telegram,
  };
}

/** A Redis queue URL's password: `redis://:secret@host` → `redis://:***@host`. */
function redactQueueUrl(queue: string): string {
  return queue.replace(/^(rediss?:\/\/[^:/@]*):[^@]*@/i, `$1:${REDACTED_PASSWORD}@`);
}

function redact(settings: Settings): Settings {
  return {
    ...settings,
    barSource: redactSource(settings.barSource),
    alerts: redactAlerts(settings.alerts),
    backtest: { ...settings.backtest, queue: redactQueueUrl(settings.backtest.queue) },
  };
}

function recordOf(value: unknown): Record<string, unknown> | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

/**
 * The saved settings with a patch applied: objects are merged key by key, anything else (a
 * value, an array such as the variant list, null) replaces. A bar source of another kind
 * replaces the old one whole, so a MySQL URL never lingers beside a SQLite path.
 */
export function mergeSettings(base: unknown, patch: unknown): Record<string, unknown> {
  return mergeValue(base, patch) as Record<string, unknown>;
}

/** Keys that would reach Object.prototype instead of the settings. */
const UNSAFE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function mergeValue(base: unknown, patch: unknown): unknown {
  const b = recordOf(base);
  const p = recordOf(patch);
  if (!b || !p) return patch;
  if ('kind' in p && b['kind'] !== p['kind']) return patch;
  const out: Record<string, unknown> = { ...b };
  for (const [key, value] of Object.entries(p)) {
    if (UNSAFE_KEYS.has(key) || value === undefined) continue;
    out[key] = Object.hasOwn(b, key) ? mergeValue(b[key], value) : value;
  }
  return out;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Settings: read what the host keeps, validate and save a new version, and try a bar source.
 * Kestrel reads its settings once, at start: nothing saved here is applied to the running
 * workstation, and every answer says which saved sections wait for a restart.
 */
export class SettingsService {
  /** The file as it was when the workstation started: a save is compared with it. */
  private readonly atStart: Settings | null;

  constructor(private readonly opts: SettingsServiceOptions) {
    this.atStart = this.readStored().settings;
  }

  handlers(): Pick<ApiHandlers, 'getSettings' | 'updateSettings' | 'testBarSource'> {
    return {
      getSettings: () => Promise.resolve(this.view()),
      updateSettings: (params, ctx) => this.update(params, ctx),
      testBarSource: (params, ctx) => this.test(params, ctx),
    };
  }

  private readStored(): { settings: Settings | null; problem: string | null } {
    const store = this.opts.store;
    if (!store) return { settings: null, problem: null };
    let raw: unknown;
    try {
      raw = store.read();
    } catch (err) {
      const message = messageOf(err);
      return { settings: null, problem: message.includes(store.path) ? message : `${store.path} cannot be read: ${message}` };
    }
    return checkSettings(store.path, raw ?? {});
  }

  /** What a save is compared with to tell what waits for a restart. */
  private baseline(): Settings {
    return this.atStart ?? this.opts.running;
  }

  view(): SettingsView {
    const { settings, problem } = this.readStored();
    const shown = settings ?? this.opts.running;
    return {
      settings: redact(shown),
      storedAt: this.opts.store?.path ?? null,
      dataDir: this.opts.dataDir,
      running: redact(this.opts.running),
      restartNeeded: settings ? differingSections(this.baseline(), settings) : [],
      problem,
    };
  }

  /** The URL as typed, or the stored one when the page sent back its redacted form. */
  private unredacted(url: string): string | null {
    if (!url.includes(`:***@`)) return url;
    const known = [this.readStored().settings?.barSource, this.opts.running.barSource];
    for (const source of known) if (source?.kind === 'mysql' && redactUrl(source.url) === url) return source.url;
    return null;
  }

  /** A Redis queue URL sent back with its password as *** is the stored one. */
  private restoreQueuePassword(candidate: Record<string, unknown>, fields: FieldError[]): void {
    const backtest = recordOf(candidate['backtest']);
    const queue = backtest?.['queue'];
    if (!backtest || typeof queue !== 'string' || !queue.includes(`:${REDACTED_PASSWORD}@`)) return;
    const known = [this.readStored().settings?.backtest.queue, this.opts.running.backtest.queue].find((q) => q !== undefined && redactQueueUrl(q) === queue.trim());
    if (known === undefined) fields.push({ path: 'backtest.queue', message: 'the password is hidden (***): type it again' });
    else candidate['backtest'] = { ...backtest, queue: known };
  }

  /** A secret sent back as *** is the stored one (the file's, else what runs); with none stored, it must be typed. */
  private restoreAlertSecrets(candidate: Record<string, unknown>, fields: FieldError[]): void {
    const alerts = recordOf(candidate['alerts']);
    if (!alerts) return;
    const known = [this.readStored().settings?.alerts, this.opts.running.alerts];
    const secrets = [
      { channel: 'email', field: 'password', stored: (a: AlertChannels | undefined) => a?.email?.password, what: 'the SMTP password' },
      { channel: 'telegram', field: 'botToken', stored: (a: AlertChannels | undefined) => a?.telegram?.botToken, what: 'the bot token' },
    ] as const;
    const next = { ...alerts };
    for (const secret of secrets) {
      const channel = recordOf(next[secret.channel]);
      if (!channel || channel[secret.field] !== REDACTED_PASSWORD) continue;
      const stored = known.map(secret.stored).find((v) => v !== undefined && v !== '');
      if (stored === undefined) fields.push({ path: `alerts.${secret.channel}.${secret.field}`, message: `${secret.what} is hidden (***): type it again` });
      else next[secret.channel] = { ...channel, [secret.field]: stored };
    }
    candidate['alerts'] = next;
  }

  private update(params: ValidParamsOf<'updateSettings'>, ctx: CallContext): Promise<UpdateSettingsResult> {
    const sections = Object.keys(params.settings).sort();
    return this.opts.command(ctx, 'updateSettings', null, { sections }, () => Promise.resolve(this.save(params.settings)));
  }

  private save(patch: Record<string, unknown>): UpdateSettingsResult {
    const store = this.opts.store;
    if (!store) throw new ApiError(409, 'this host keeps no settings file: settings cannot be saved here');
    const fields: FieldError[] = [];
    const stored = this.readStored();
    // A patch: what it names replaces, what it leaves out stays as saved (or, over a broken file, as running).
    const candidate = mergeSettings(stored.settings ?? this.opts.running, structuredClone(patch));
    const source = candidate['barSource'];
    if (source && typeof source === 'object' && !Array.isArray(source)) {
      const s = { ...(source as Record<string, unknown>) };
      if (s['kind'] === 'mysql' && typeof s['url'] === 'string') {
        const url = this.unredacted(s['url'].trim());
        if (url === null) fields.push({ path: 'barSource.url', message: 'the password is hidden (***): type it again' });
        else s['url'] = url;
      }
      // An empty path field means "the data directory's kestrel.db".
      if (s['kind'] === 'sqlite' && typeof s['path'] === 'string' && s['path'].trim() === '') s['path'] = null;
      candidate['barSource'] = s;
    }
    this.restoreAlertSecrets(candidate, fields);
    this.restoreQueuePassword(candidate, fields);
    const parsed = settingsSchema.safeParse(candidate);
    if (!parsed.success) fields.push(...fieldErrorsOfIssues(parsed.error.issues));
    // The schema only checks the scheme; the store's own parser says what else is wrong.
    const url = (candidate['barSource'] as { kind?: unknown; url?: unknown } | undefined)?.url;
    const kind = (candidate['barSource'] as { kind?: unknown } | undefined)?.kind;
    if (kind === 'mysql' && typeof url === 'string' && /^mysql:\/\//.test(url) && !fields.some((f) => f.path === 'barSource.url')) {
      try {
        parseMysqlUrl(url);
      } catch (err) {
        fields.push({ path: 'barSource.url', message: messageOf(err) });
      }
    }
    const current = stored.settings;
    if (parsed.success && parsed.data.barSource.kind === 'sqlite' && !isOwnBarDatabase(this.opts.dataDir, parsed.data.barSource.path)) {
      // Kestrel never creates or writes a bar file outside its data directory: it must be a vnpy one already.
      let probe: SqliteBarStore | null = null;
      try {
        probe = SqliteBarStore.open(parsed.data.barSource.path as string, { readonly: true });
      } catch {
        fields.push({ path: 'barSource.path', message: `${NOT_VNPY}: a bar source outside the data directory must be an existing vnpy database; Kestrel opens it read-only` });
      } finally {
        probe?.closeSync();
      }
    }
    if (parsed.success) {
      const next = parsed.data;
      const names = new Map<string, number>();
      next.variants.forEach((v, i) => {
        const first = names.get(v.name);
        if (first === undefined) names.set(v.name, i);
        else fields.push({ path: `variants.${i}.name`, message: `variant ${first + 1} is already named "${v.name}"` });
      });
      const storedDataDir = (current ?? this.opts.running).dataDir;
      if (next.dataDir !== storedDataDir) {
        fields.push({
          path: 'dataDir',
          message: 'the data directory is chosen when Kestrel starts (--data-dir headless, the desktop settings file); it cannot be changed here',
        });
      }
    }
    if (fields.length > 0 || !parsed.success) {
      const first = fields[0];
      throw new ApiError(
        400,
        `settings not saved: ${fields.length} field${fields.length === 1 ? '' : 's'} to correct${first ? ` (${first.path || '(root)'}: ${first.message})` : ''}`,
        fields,
      );
    }
    const next = parsed.data;
    let movedAside: string | null = null;
    if (stored.problem !== null) {
      // Never written over: the trader may want what was in it.
      if (!store.moveAside) throw new ApiError(409, `${stored.problem}; mend or remove it before saving`);
      try {
        movedAside = store.moveAside();
      } catch (err) {
        throw new ApiError(500, `${stored.problem}; it cannot be moved aside (${messageOf(err)}), so nothing was saved`);
      }
    }
    try {
      store.write(next);
    } catch (err) {
      throw new ApiError(500, `${store.path} cannot be written: ${messageOf(err)}; the saved settings are unchanged`);
    }
    const changed = differingSections(current ?? this.opts.running, next);
    const restartNeeded = differingSections(this.baseline(), next);
    const aside = movedAside ? `; the broken file (${stored.problem ?? ''}) was moved to ${movedAside}` : '';
    const message =
      restartNeeded.length > 0
        ? `saved to ${store.path}${aside}; restart needed for: ${restartNeeded.join(', ')}`
        : `saved to ${store.path}${aside}; nothing waits for a restart`;
    return { ok: true, message, storedAt: store.path, restartNeeded, changed, settings: redact(next) };
  }

  private test(params: ValidParamsOf<'testBarSource'>, ctx: CallContext): Promise<TestBarSourceResult> {
    const source = params.barSource;
    return this.opts.command(ctx, 'testBarSource', source.kind, { kind: source.kind }, () => this.tryBarSource(source));
  }

  /**
   * Three answers only: ok, not a vnpy bar database, unreachable. Which of the many ways a
   * source can fail is not said, and a MySQL failure is answered when the fixed timeout ends,
   * however quickly it failed: otherwise the answer would tell whether a path exists, or (by
   * its timing) which local ports are open, to anyone allowed to press "Test".
   */
  private async tryBarSource(source: BarSource): Promise<TestBarSourceResult> {
    if (source.kind === 'sqlite') {
      const isDefault = source.path === null || source.path.trim() === '';
      const path = resolve(isDefault ? join(this.opts.dataDir, BAR_DB_FILE) : (source.path as string));
      if (isDefault && !existsSync(path)) {
        return { ok: true, message: `SQLite ${path} does not exist yet: it is created by the demo or the first import`, overviewCount: 0 };
      }
      let store: SqliteBarStore | null = null;
      try {
        store = SqliteBarStore.open(path, { readonly: true });
        const count = store.overviewSync().length;
        return { ok: true, message: `${store.description}: a vnpy bar database, ${count} row${count === 1 ? '' : 's'} in dbbaroverview`, overviewCount: count };
      } catch {
        return { ok: false, message: NOT_VNPY };
      } finally {
        store?.closeSync();
      }
    }
    const url = this.unredacted(source.url.trim());
    if (url === null) return { ok: false, message: 'the password is hidden (***): type it again to test' };
    try {
      parseMysqlUrl(url);
    } catch (err) {
      return { ok: false, message: messageOf(err) };
    }
    const timeoutMs = this.opts.testTimeoutMs ?? DEFAULT_TEST_TIMEOUT_MS;
    const answerAt = Date.now() + timeoutMs;
    const failed = async (message: string): Promise<TestBarSourceResult> => {
      await new Promise((done) => setTimeout(done, Math.max(0, answerAt - Date.now())));
      return { ok: false, message };
    };
    let store: BarStore | null = null;
    let timer: NodeJS.Timeout | undefined;
    const connecting = MysqlBarStore.connect(url, { readonly: true, connectTimeoutMs: timeoutMs, connectionLimit: 1 });
    const deadline = new Promise<never>((_ok, fail) => {
      timer = setTimeout(() => fail(new BarStoreUnavailableError('timed out')), timeoutMs);
    });
    try {
      store = await Promise.race([connecting, deadline]);
    } catch (err) {
      clearTimeout(timer);
      // A connect that lost the race still ends its pool when it settles.
      void connecting.then((s) => s.close()).catch(() => undefined);
      // The server let us in: only the database is wrong (missing, or without vnpy's tables).
      if (err instanceof BarStoreUnavailableError && /not a vnpy bar database|has no database/.test(err.message)) return failed(NOT_VNPY);
      return failed(`unreachable: no MySQL server accepted ${redactUrl(url)} within ${timeoutMs / 1000} s (check host, port, user and password)`);
    }
    try {
      const count = (await Promise.race([store.overview(), deadline])).length;
      return { ok: true, message: `${store.description}: connected, ${count} row${count === 1 ? '' : 's'} in dbbaroverview`, overviewCount: count };
    } catch {
      return failed(NOT_VNPY);
    } finally {
      clearTimeout(timer);
      await store.close().catch(() => undefined);
    }
  }
}
