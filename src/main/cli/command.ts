/**
 * A CLI command. `run` returns the process exit code: 0 ok, 1 runtime failure,
 * 2 usage or input error (bad flag, bad file, bad row), as every Kestrel command does.
 */
export interface CliCommand {
  readonly name: string;
  /** Full usage text for `kestrel <name> --help`. */
  readonly usage: string;
  run(argv: readonly string[], io: CliIo): Promise<number>;
}

export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly cwd: string;
}

/** A usage or input error: printed as one clear line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>;
