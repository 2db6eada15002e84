import { z } from 'zod';
import { command, query } from '../contractKit.js';
import { barSourceSchema, settingsSchema } from '../config.js';

/**
 * The workstation's settings as the host keeps them (conf's `<data>/settings.json` headless,
 * the same settings.json on desktop): read, validated and saved. Kestrel reads its settings once, at
 * start; a saved change takes effect at the next start, and the answer says which sections
 * wait for it. A MySQL password never leaves the host: URLs come back as `mysql://user:***@…`;
 * the SMTP password and the Telegram bot token come back as ***, and *** sent back keeps the stored one.
 */

export const SETTINGS_SECTIONS = ['dataDir', 'barSource', 'demo', 'variants', 'supervisor', 'metrics', 'alerts', 'allocation', 'shutdown', 'backtest'] as const;
export const settingsSectionSchema = z.enum(SETTINGS_SECTIONS);
export type SettingsSection = z.infer<typeof settingsSectionSchema>;

/** Hides a MySQL URL's password: `mysql://user:secret@host/db` → `mysql://user:***@host/db`. */
export const REDACTED_PASSWORD = '***';

export const settingsViewSchema = z.object({
  /** As saved (defaults filled); a MySQL password is shown as ***. */
  settings: settingsSchema,
  /** The settings file; null when this host keeps none (then nothing can be saved). */
  storedAt: z.string().nullable(),
  /** The data directory this workstation runs on. */
  dataDir: z.string(),
  /** What runs now, when it differs from what is saved (command-line flags, or a save awaiting a restart). */
  running: settingsSchema,
  /** Sections saved since the start that take effect at the next start. */
  restartNeeded: z.array(settingsSectionSchema),
  /** The settings file exists but is not valid: shown instead of the settings, which are then the running ones. */
  problem: z.string().nullable(),
});
export type SettingsView = z.infer<typeof settingsViewSchema>;

export const updateSettingsResultSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
  storedAt: z.string(),
  /** Sections saved since the start that take effect at the next start. */
  restartNeeded: z.array(settingsSectionSchema),
  /** What this save changed compared with the file before it. */
  changed: z.array(settingsSectionSchema),
  settings: settingsSchema,
});
export type UpdateSettingsResult = z.infer<typeof updateSettingsResultSchema>;

export const testBarSourceResultSchema = z.object({
  ok: z.boolean(),
  message: z.string(),
  /** Rows of dbbaroverview (symbol × exchange × interval) found, when the store answered. */
  overviewCount: z.number().int().nonnegative().optional(),
});
export type TestBarSourceResult = z.infer<typeof testBarSourceResultSchema>;

export const settingsEntries = {
  getSettings: query(z.object({}), settingsViewSchema, '/api/settings', 'the saved settings, where they are kept, and what awaits a restart'),
  updateSettings: command(
    // Validated by the handler with settingsSchema, so that every wrong field comes back at once.
    z.object({ settings: z.record(z.string(), z.unknown()) }),
    updateSettingsResultSchema,
    '/api/settings',
    'merge a patch into the saved settings (what it leaves out stays; *** keeps a secret), validate and save atomically with settings.json.bak; they take effect at the next start',
  ),
  testBarSource: command(
    z.object({ barSource: barSourceSchema }),
    testBarSourceResultSchema,
    '/api/settings/test-bar-source',
    'open a bar source read-only and count its dbbaroverview rows (MySQL with a short timeout)',
  ),
};
