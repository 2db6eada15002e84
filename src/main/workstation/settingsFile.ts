import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { reportWriteFailure } from '../../io/diskGuard.js';
import type { Settings } from '../../shared/config.js';
import { checkSettings, type SettingsStore } from './settingsStore.js';

export const SETTINGS_FILE = 'settings.json';

/**
 * The settings file both hosts keep (`<data>/settings.json` headless; `settings.json` in the
 * desktop's user-data folder), validated with the shared zod schema. It never loses what it
 * holds: a write goes to a temporary file, is flushed and renamed into place, with the version
 * before it kept as `settings.json.bak`; a file that is not a settings object (bad JSON, `null`,
 * `[1,2,3]`) is a SettingsError naming the file, never read as "no settings".
 */
export class SettingsFile implements SettingsStore {
  readonly backupPath: string;

  constructor(readonly path: string) {
    this.backupPath = `${path}.bak`;
  }

  /** The file's object ({} when there is no file yet). @throws SettingsError when it holds anything else. */
  read(): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new SettingsError(`${this.path} cannot be read: ${(err as Error).message}`);
    }
    if (text.trim() === '') throw new SettingsError(`${this.path} is empty; it should hold a JSON object of settings`);
    let value: unknown;
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new SettingsError(`${this.path} is not valid JSON: ${(err as Error).message}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      throw new SettingsError(`${this.path} holds ${what}, not a JSON object of settings`);
    }
    return value as Record<string, unknown>;
  }

  write(value: unknown): void {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('settings must be an object');
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      // A first save may come before anything else created the folder (a new data directory).
      mkdirSync(dirname(this.path), { recursive: true });
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(value, null, '\t')}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      // The previous version stays recoverable until the next save.
      if (existsSync(this.path)) copyFileSync(this.path, this.backupPath);
      renameSync(tmp, this.path);
    } catch (err) {
      rmSync(tmp, { force: true });
      // The file in place is untouched; a full disk is also the guard's to announce.
      reportWriteFailure(this.path, err);
      throw err;
    }
  }

  /** Moves a broken file out of the way (kept, never overwritten); answers where it went. */
  moveAside(): string {
    const aside = `${this.path}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.path, aside);
    return aside;
  }
}

/** `<dataDir>/settings.json`, as the workstation's SettingsStore. */
export function openSettingsFile(dir: string): SettingsFile {
  return new SettingsFile(join(dir, SETTINGS_FILE));
}

/**
 * The settings a host starts with. A file that is there but not valid settings stops the start
 * (SettingsError naming it) and is left as it is: running on defaults instead would trade the
 * demo's variants, or none, in place of the trader's.
 */
export function loadSettings(dir: string): { settings: Settings; path: string; store: SettingsFile } {
  const store = openSettingsFile(dir);
  const checked = checkSettings(store.path, store.read());
  if (checked.problem !== null) throw new SettingsError(checked.problem);
  return { settings: checked.settings, path: store.path, store };
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}
