/**
 * Exporting bars from the bar store as CSV that Kestrel's own import reads back unchanged:
 * header `datetime,open,high,low,close,volume,turnover,open_interest`, datetime as the exchange's
 * naive local 'YYYY-MM-DD HH:MM:SS', numbers in JavaScript's shortest round-trip form.
 * Streams chunk by chunk with backpressure; a file is written beside its target and renamed
 * into place, so a failed export never leaves half a file under the requested name.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatDatetime } from '../shared/time.js';
import type { BarKey, BarStore } from './barStore.js';

export const EXPORT_HEADER = 'datetime,open,high,low,close,volume,turnover,open_interest';

export interface ExportOptions {
  /** Inclusive bounds, local-as-UTC seconds. */
  from?: number;
  to?: number;
  chunkSize?: number;
}

export interface ExportResult {
  rows: number;
  first: string | null;
  last: string | null;
}

/** Writes the CSV to a stream (not ended here: stdout must stay open). */
export async function exportBars(
  store: BarStore,
  key: BarKey,
  out: NodeJS.WritableStream,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const range: { from?: number; to?: number; chunkSize?: number } = {};
  if (opts.from !== undefined) range.from = opts.from;
  if (opts.to !== undefined) range.to = opts.to;
  if (opts.chunkSize !== undefined) range.chunkSize = opts.chunkSize;
  let rows = 0;
  let first: number | null = null;
  let last: number | null = null;
  await writeWithBackpressure(out, `${EXPORT_HEADER}\n`);
  for await (const chunk of store.loadRange(key, range)) {
    let text = '';
    for (const b of chunk) {
      text += `${formatDatetime(b.time)},${b.open},${b.high},${b.low},${b.close},${b.volume},${b.turnover},${b.openInterest}\n`;
    }
    if (chunk.length > 0) {
      first ??= (chunk[0] as { time: number }).time;
      last = (chunk[chunk.length - 1] as { time: number }).time;
      rows += chunk.length;
    }
    await writeWithBackpressure(out, text);
  }
  return { rows, first: first === null ? null : formatDatetime(first), last: last === null ? null : formatDatetime(last) };
}

/** Writes the CSV to `file` atomically (temporary file, then rename). */
export async function exportBarsToFile(
  store: BarStore,
  key: BarKey,
  file: string,
  opts: ExportOptions = {},
): Promise<ExportResult> {
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
  const out = createWriteStream(tmp, { encoding: 'utf8' });
  const failed = new Promise<never>((_resolve, reject) => out.once('error', reject));
  failed.catch(() => undefined);
  try {
    const result = await Promise.race([exportBars(store, key, out, opts), failed]);
    out.end();
    await Promise.race([once(out, 'finish'), failed]);
    await rename(tmp, file);
    return result;
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}

async function writeWithBackpressure(out: NodeJS.WritableStream, text: string): Promise<void> {
  if (text.length === 0) return;
  if (!out.write(text)) await once(out, 'drain');
}
