import Conf from 'conf';
import { settingsSchema, type Settings } from '../../shared/config.js';
import type { SettingsStore } from '../workstation/settingsStore.js';

/**
 * Headless settings: `conf` keeps `<dataDir>/settings.json`, validated by the same zod
 * schema electron-store uses on desktop. An invalid file is an input error that names
 * the file and the field, never a silent reset.
 */
export function loadSettings(dataDir: string): { settings: Settings; path: string; store: SettingsStore } {
  const store = openSettingsFile(dataDir);
  const parsed = settingsSchema.safeParse(store.read());
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new SettingsError(`${store.path}: field "${field}": ${issue?.message ?? 'invalid'}`);
  }
  return { settings: parsed.data, path: store.path, store };
}

/** `<dataDir>/settings.json` through conf (atomic writes), as the workstation's SettingsStore. */
export function openSettingsFile(dataDir: string): SettingsStore {
  const conf = new Conf<Record<string, unknown>>({ cwd: dataDir, configName: 'settings', projectName: 'kestrel' });
  return {
    path: conf.path,
    // conf reads the file on every access, so a hand edit since the start is seen.
    read: () => conf.store,
    write: (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('settings must be an object');
      conf.store = value as Record<string, unknown>;
    },
  };
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}
