import Conf from 'conf';
import { settingsSchema, type Settings } from '../../shared/config.js';

/**
 * Headless settings: `conf` keeps `<dataDir>/settings.json`, validated by the same zod
 * schema electron-store uses on desktop. An invalid file is an input error that names
 * the file and the field, never a silent reset.
 */
export function loadSettings(dataDir: string): { settings: Settings; path: string } {
  const store = new Conf<Record<string, unknown>>({ cwd: dataDir, configName: 'settings', projectName: 'kestrel' });
  const parsed = settingsSchema.safeParse(store.store);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new SettingsError(`${store.path}: field "${field}": ${issue?.message ?? 'invalid'}`);
  }
  return { settings: parsed.data, path: store.path };
}

export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}
