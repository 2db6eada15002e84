import type { CallContext, CommandResult } from '../../shared/api.js';
import { settingsSchema, type Settings } from '../../shared/config.js';

/**
 * Where a host keeps the settings: `SettingsFile` (`<data>/settings.json` headless, the user-data
 * folder on desktop). The workstation reads and writes through it and never learns which one it is.
 */
export interface SettingsStore {
  /** The file's content as it is now (not yet validated). */
  read(): unknown;
  /** Replaces the whole content, atomically, keeping the previous version; the caller has validated it. */
  write(value: unknown): void;
  /** Moves a file that cannot be read as settings out of the way; answers where it went. */
  moveAside?(): string;
  /** The file, for the trader: where to look, what to back up. */
  readonly path: string;
}

/**
 * The workstation's audited command path: refuses (403) when control is off, records the
 * command and its outcome in the audit journal either way.
 */
export type CommandRunner = <T extends CommandResult>(
  ctx: CallContext,
  action: string,
  target: string | null,
  params: Record<string, unknown>,
  run: () => Promise<T>,
) => Promise<T>;

/** Valid settings, or the file's problem as one line: which file, which field, what is wrong. */
export function checkSettings(path: string, raw: unknown): { settings: Settings; problem: null } | { settings: null; problem: string } {
  const parsed = settingsSchema.safeParse(raw);
  if (parsed.success) return { settings: parsed.data, problem: null };
  const issue = parsed.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
  return { settings: null, problem: `${path}: field "${field}": ${issue?.message ?? 'invalid'}` };
}
