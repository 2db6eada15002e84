/**
 * Issue 12, finding 5: saving settings never loses data. Real files in a temporary folder, the
 * real SettingsService behind them (its audited command path run as it is once control passed).
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SettingsError, loadSettings, openSettingsFile } from '../../src/main/workstation/settingsFile.js';
import { SettingsService } from '../../src/main/workstation/settingsService.js';
import type { CommandRunner } from '../../src/main/workstation/settingsStore.js';
import type { CallContext } from '../../src/shared/api.js';
import { settingsSchema, type Settings } from '../../src/shared/config.js';
import { freshDir } from '../helpers.js';

const CTX: CallContext = { origin: 'rest', controlAllowed: true };
const runCommand: CommandRunner = (_ctx, _action, _target, _params, run) => run();

const STORED = {
  demo: { enabled: true, speed: 60, seed: 7 },
  variants: [
    { name: 'rb-15m', vtSymbol: 'rb2505.SHFE', windowMinutes: 15 },
    { name: 'rb-30m', vtSymbol: 'rb2505.SHFE', windowMinutes: 30 },
  ],
  alerts: {
    email: { host: 'smtp.example.com', user: 'kestrel', password: 'smtp-secret', from: 'k@example.com', to: ['t@example.com'] },
  },
};

let dir: { dir: string; remove: () => void };
let path: string;
beforeEach(() => {
  dir = freshDir('kestrel-settings-file-');
  path = join(dir.dir, 'settings.json');
});
afterEach(() => dir.remove());

function service(running: Settings): SettingsService {
  return new SettingsService({ store: openSettingsFile(dir.dir), running, dataDir: dir.dir, command: runCommand });
}

function update(svc: SettingsService, settings: Record<string, unknown>) {
  return svc.handlers().updateSettings({ settings }, CTX);
}

const onDisk = (file = path): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('updateSettings is a patch', () => {
  it('{demo:{speed:120}} keeps the variants, the seed and the SMTP password; the previous file is settings.json.bak', async () => {
    writeFileSync(path, JSON.stringify(STORED));
    const svc = service(loadSettings(dir.dir).settings);
    const result = await update(svc, { demo: { speed: 120 } });
    expect(result.changed).toEqual(['demo']);
    const saved = settingsSchema.parse(onDisk());
    expect(saved.demo).toEqual({ enabled: true, speed: 120, seed: 7, crypto: false });
    expect(saved.variants.map((v) => v.name)).toEqual(['rb-15m', 'rb-30m']);
    expect(saved.alerts.email?.password).toBe('smtp-secret');
    expect(onDisk(`${path}.bak`)).toEqual(STORED);
    // The answer never shows the secret.
    expect(result.settings.alerts.email?.password).toBe('***');
  });

  it('a secret sent back as *** is kept; a new one replaces it', async () => {
    writeFileSync(path, JSON.stringify(STORED));
    const svc = service(loadSettings(dir.dir).settings);
    await update(svc, { alerts: { email: { host: 'smtp2.example.com', password: '***' } } });
    expect(settingsSchema.parse(onDisk()).alerts.email).toMatchObject({ host: 'smtp2.example.com', password: 'smtp-secret', user: 'kestrel' });
    await update(svc, { alerts: { email: { password: 'new-secret' } } });
    expect(settingsSchema.parse(onDisk()).alerts.email?.password).toBe('new-secret');
  });

  it('a prototype key in a patch reaches neither the file nor Object.prototype', async () => {
    writeFileSync(path, JSON.stringify(STORED));
    const svc = service(loadSettings(dir.dir).settings);
    await update(svc, JSON.parse('{"demo":{"__proto__":{"polluted":true},"speed":90}}') as Record<string, unknown>);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(settingsSchema.parse(onDisk()).demo.speed).toBe(90);
  });
});

const BROKEN: [string, string, RegExp][] = [
  ['bad JSON', '{"demo": {"speed": 60,}', /is not valid JSON/],
  ['an array', '[1,2,3]', /holds an array, not a JSON object of settings/],
  ['null', 'null', /holds null, not a JSON object of settings/],
  ['a schema-invalid value', '{"demo":{"speed":-5}}', /field "demo\.speed"/],
];

describe.each(BROKEN)('a settings file holding %s', (_what, text, says) => {
  it('stops the start naming the file, and leaves it untouched', () => {
    writeFileSync(path, text);
    expect(() => loadSettings(dir.dir)).toThrow(SettingsError);
    expect(() => loadSettings(dir.dir)).toThrow(path);
    expect(() => loadSettings(dir.dir)).toThrow(says);
    expect(readFileSync(path, 'utf8')).toBe(text);
  });

  it('is shown as the problem, and a save moves it aside (kept, named in the answer) instead of writing over it', async () => {
    writeFileSync(path, JSON.stringify(STORED));
    const running = loadSettings(dir.dir).settings;
    const svc = service(running);
    writeFileSync(path, text); // broken by hand after the start
    const view = await svc.handlers().getSettings({}, CTX);
    expect(view.problem).toContain(path);
    expect(view.problem).toMatch(says);

    const result = await update(svc, { demo: { speed: 90 } });
    const aside = readdirSync(dir.dir).filter((f) => f.startsWith('settings.json.broken-'));
    expect(aside).toHaveLength(1);
    const asidePath = join(dir.dir, aside[0] as string);
    expect(readFileSync(asidePath, 'utf8')).toBe(text);
    expect(result.message).toContain(`moved to ${asidePath}`);
    // The patch lands on what runs: nothing of the running variants is lost.
    const saved = settingsSchema.parse(onDisk());
    expect(saved.demo.speed).toBe(90);
    expect(saved.variants.map((v) => v.name)).toEqual(['rb-15m', 'rb-30m']);
  });
});

describe('the write itself', () => {
  it('an empty file is a problem too, and a missing file is no settings yet', () => {
    expect(loadSettings(dir.dir).settings).toEqual(settingsSchema.parse({}));
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '  \n');
    expect(() => loadSettings(dir.dir)).toThrow(/is empty/);
  });

  it('leaves no temporary file behind and keeps exactly one backup', async () => {
    writeFileSync(path, JSON.stringify(STORED));
    const svc = service(loadSettings(dir.dir).settings);
    await update(svc, { demo: { speed: 100 } });
    await update(svc, { demo: { speed: 110 } });
    expect(readdirSync(dir.dir).sort()).toEqual(['settings.json', 'settings.json.bak']);
    expect(settingsSchema.parse(onDisk(`${path}.bak`)).demo.speed).toBe(100);
  });
});
