import type { CallContext, CommandResult } from '../../shared/api.js';

/**
 * Where a host keeps the settings: `conf` (`<data>/settings.json`) headless, electron-store on
 * desktop. The workstation reads and writes through it and never learns which one it is.
 */
export interface SettingsStore {
  /** The file's content as it is now (not yet validated). */
  read(): unknown;
  /** Replaces the whole content; the caller has validated it. */
  write(value: unknown): void;
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
