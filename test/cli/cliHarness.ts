/**
 * Runs CLI commands in-process with in-memory streams, or as the real `kestrel` process.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliCommand, CliIo } from '../../src/main/cli/command.js';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runCommand(command: CliCommand, argv: readonly string[], cwd: string = PROJECT_ROOT): Promise<CliRun> {
  const stdout = new Collect();
  const stderr = new Collect();
  const io: CliIo = { stdout, stderr, cwd };
  const code = await command.run(argv, io);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** `node --import tsx src/main/cli/main.ts ...argv` as a real child process. */
export function spawnCli(argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src/main/cli/main.ts'), ...argv], {
      cwd: opts.cwd ?? PROJECT_ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
