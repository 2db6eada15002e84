/**
 * A small typed flag parser over node:util parseArgs: strict (an unknown flag is a UsageError
 * naming it), values typed from the spec, and converters for the values Kestrel's commands take.
 */
import { parseArgs } from 'node:util';
import { parseDatetime } from '../../shared/time.js';
import { UsageError, type FlagSpec } from './command.js';

type ValueOf<D extends FlagSpec[string]> = D['type'] extends 'boolean'
  ? D['multiple'] extends true
    ? boolean[]
    : boolean
  : D['multiple'] extends true
    ? string[]
    : string;

export type FlagValues<S extends FlagSpec> = { [K in keyof S]?: ValueOf<S[K]> };

export interface ParsedFlags<S extends FlagSpec> {
  values: FlagValues<S>;
  positionals: string[];
}

/**
 * Parses `argv` against `spec` (flag names without the leading `--`).
 * @throws UsageError: `unknown flag --x`, `flag --x needs a value`, `unexpected argument "y"`.
 */
export function parseFlags<S extends FlagSpec>(
  argv: readonly string[],
  spec: S,
  opts: { allowPositionals?: boolean } = {},
): ParsedFlags<S> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: spec,
      strict: true,
      allowPositionals: opts.allowPositionals ?? false,
    });
    return { values: values as FlagValues<S>, positionals };
  } catch (err) {
    throw new UsageError(describeParseError(err));
  }
}

function describeParseError(err: unknown): string {
  const code = err && typeof err === 'object' ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${quoted}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument "${quoted}"`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted.split(' ')[0] ?? quoted;
      return /argument missing/.test(message) ? `flag ${flag} needs a value` : /does not take an argument/.test(message) ? `flag ${flag} takes no value` : message;
    }
    default:
      return message;
  }
}

/** The value of a required string flag. */
export function requireFlag(value: string | undefined, name: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`missing --${name}`);
  return value;
}

/** A whole number within bounds. */
export function intFlag(value: string | undefined, name: string, bounds: { min?: number; max?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${name} "${value}" is not a whole number`);
  if (bounds.min !== undefined && n < bounds.min) throw new UsageError(`--${name} must be at least ${bounds.min}, got ${n}`);
  if (bounds.max !== undefined && n > bounds.max) throw new UsageError(`--${name} must be at most ${bounds.max}, got ${n}`);
  return n;
}

/** One of a fixed set of words. */
export function choiceFlag<T extends string>(value: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} "${value}" is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

/**
 * An exchange-local datetime: `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` (a `T` works too) →
 * local-as-UTC seconds. A bare date means the start of that day, or with `endOfDay` its last
 * second, so `--from 2024-01-02 --to 2024-01-05` covers both days whole.
 */
export function datetimeFlag(value: string | undefined, name: string, opts: { endOfDay?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const start = parseDatetime(`${text} 00:00:00`);
    if (start === null) throw new UsageError(`--${name} "${value}" is not a date`);
    return opts.endOfDay ? start + 86_399 : start;
  }
  const t = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/.test(text) ? parseDatetime(text) : null;
  if (t === null) throw new UsageError(`--${name} "${value}" is not a datetime; use YYYY-MM-DD or "YYYY-MM-DD HH:MM[:SS]"`);
  return t;
}
