import { writeFileSync } from 'node:fs';
import type { LogLevelName } from '../../../src/shared/contract/logs.js';

/**
 * Generated log files whose every line's level and time are known by construction, so tests
 * compare the code against what the generator wrote, never against the code itself.
 */
export interface GeneratedLine {
  text: string;
  /** The level the line was written with; null for lines that carry none (a traceback line). */
  level: LogLevelName | null;
  /** The time written on the line, or null. */
  time: string | null;
}

const LEVELS: LogLevelName[] = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const WORDS = ['bar', 'window', 'closed', 'signal', 'macd', 'cross', 'order', 'filled', 'position', 'risk', 'check', 'restore'];

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** 'YYYY-MM-DD HH:MM:SS' for second `s` after 2026-01-05 00:00:00. */
export function plainTime(s: number): string {
  const d = new Date(Date.UTC(2026, 0, 5) + s * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function isoTime(s: number): string {
  return new Date(Date.UTC(2026, 0, 5) + s * 1000).toISOString();
}

/**
 * A mix: JSON lines (ours), python-logging lines, traceback lines without level or time, a
 * few empty lines, Chinese text, CRLF endings, one line of ~100 KB. Time advances 1 s a line.
 */
export function generateLines(count: number, seed = 7, opts: { longLineAt?: number } = {}): GeneratedLine[] {
  const rand = lcg(seed);
  const lines: GeneratedLine[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const level = LEVELS[Math.floor(rand() * LEVELS.length)] as LogLevelName;
    const words = Array.from({ length: 2 + Math.floor(rand() * 8) }, () => WORDS[Math.floor(rand() * WORDS.length)] as string);
    if (rand() < 0.02) words.push(rand() < 0.5 ? 'Restore' : 'RESTORE');
    if (rand() < 0.01) words.push('订单被拒绝');
    const message = words.join(' ');
    if (i === opts.longLineAt) {
      const text = JSON.stringify({ time: isoTime(i), level, variant: 'demo-15m', message: `long ${'x'.repeat(100_000)}`, seq: i });
      lines.push({ text, level, time: isoTime(i) });
    } else if (r < 0.7) {
      const text = JSON.stringify({ time: isoTime(i), level, variant: 'demo-15m', message, seq: i, price: 3500 + Math.floor(rand() * 200) / 2 });
      lines.push({ text, level, time: isoTime(i) });
    } else if (r < 0.9) {
      const text = `${plainTime(i)},${pad(i % 1000, 3)} - strategy - ${level} - ${message}`;
      lines.push({ text: rand() < 0.1 ? `${text}\r` : text, level, time: `${plainTime(i)},${pad(i % 1000, 3)}` });
    } else if (r < 0.995) {
      lines.push({ text: `  File "strategy.py", line ${i % 500}, in ${words[0] ?? 'run'}`, level: null, time: null });
    } else {
      lines.push({ text: '', level: null, time: null });
    }
  }
  return lines;
}

/** Writes the lines, newline-terminated (or not, for the last one). */
export function writeLines(path: string, lines: readonly GeneratedLine[], finalNewline = true): void {
  const body = lines.map((l) => l.text).join('\n');
  writeFileSync(path, finalNewline && lines.length > 0 ? `${body}\n` : body);
}

/** The reference reading of a file: whole, split at newlines, without the trailing empty piece. */
export function referenceLines(content: string): string[] {
  const parts = content.split('\n');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => (p.endsWith('\r') ? p.slice(0, -1) : p));
}

/** What `raw` should be for a line of this text: itself, or its first 4096 characters and a note. */
export function expectedRaw(text: string): string {
  if (text.length <= 4096) return text;
  return `${text.slice(0, 4096)}… [${(Buffer.byteLength(text) - Buffer.byteLength(text.slice(0, 4096))).toLocaleString('en-US')} more bytes]`;
}
