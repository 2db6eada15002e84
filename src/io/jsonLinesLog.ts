import { reportWriteFailure } from './diskGuard.js';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogLevelName } from '../shared/contract/logs.js';

export type LogLevel = LogLevelName;

export interface LogLine {
  time: string;
  level: LogLevel;
  variant: string;
  message: string;
  [key: string]: unknown;
}

export interface RotationPolicy {
  /** Rotate when the file would grow past this many bytes. */
  maxBytes: number;
  /** Rotated files kept: strategy.log.1 … strategy.log.<keep>. */
  keep: number;
}

export const DEFAULT_ROTATION: RotationPolicy = { maxBytes: 20 * 1024 * 1024, keep: 5 };

/**
 * An append-only JSON-lines log, rotated by size. Writes are synchronous appends of whole
 * lines so that a worker killed with SIGKILL leaves no torn line behind it in practice,
 * and every line before the kill is on disk.
 */
export class JsonLinesLog {
  private fd: number;
  private size: number;
  private dropped = 0;

  constructor(
    readonly path: string,
    private readonly variant: string,
    private readonly rotation: RotationPolicy = DEFAULT_ROTATION,
    private readonly clock: () => Date = () => new Date(),
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a');
    this.size = fstatSync(this.fd).size;
  }

  write(level: LogLevel, message: string, context: Record<string, unknown> = {}): void {
    const line: LogLine = { time: this.clock().toISOString(), level, variant: this.variant, message, ...context };
    const text = `${JSON.stringify(line)}\n`;
    const bytes = Buffer.byteLength(text);
    try {
      if (this.size > 0 && this.size + bytes > this.rotation.maxBytes) this.rotate();
      if (this.dropped > 0) this.append(`${JSON.stringify({ time: line.time, level: 'WARNING', variant: this.variant, message: `${this.dropped} log lines were not written: the disk was full` })}\n`);
      this.dropped = 0;
      this.append(text);
    } catch (err) {
      // A full disk costs log lines (counted, and said when writes work again), never the process.
      if (!reportWriteFailure(this.path, err)) throw err;
      this.dropped++;
    }
  }

  private append(text: string): void {
    writeSync(this.fd, text);
    this.size += Buffer.byteLength(text);
  }

  info(message: string, context?: Record<string, unknown>): void {
    this.write('INFO', message, context);
  }

  warn(message: string, context?: Record<string, unknown>): void {
    this.write('WARNING', message, context);
  }

  error(message: string, context?: Record<string, unknown>): void {
    this.write('ERROR', message, context);
  }

  close(): void {
    closeSync(this.fd);
  }

  private rotate(): void {
    closeSync(this.fd);
    const oldest = `${this.path}.${this.rotation.keep}`;
    if (existsSync(oldest)) rmSync(oldest);
    for (let i = this.rotation.keep - 1; i >= 1; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    if (this.rotation.keep >= 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path);
    this.fd = openSync(this.path, 'a');
    this.size = 0;
  }
}
