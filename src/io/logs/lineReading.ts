import type { FileHandle } from 'node:fs/promises';

/**
 * Reading a log file by lines without ever holding the file: a forward cursor (paging, tail),
 * a backward reader (the last page before the index exists, the tail's first lines) and a
 * big-chunk scanner (search, filters). A line is what lies between two 0x0A bytes; a last line
 * without a newline is still a line. Over-long lines stay one line: only their head is kept.
 */

export const NEWLINE = 0x0a;
/** Bytes of one line kept for parsing and display; the rest of a longer line is skipped. */
export const MAX_LINE_KEEP = 64 * 1024;

export interface RawLine {
  /** Byte offset of the line's first byte. */
  start: number;
  /** Byte offset just past the line: past its newline, or the end for a last line without one. */
  next: number;
  /** The line without its newline (and without a trailing \r), at most MAX_LINE_KEEP bytes of it. */
  text: string;
  /** Bytes of the line that were not kept. */
  cutBytes: number;
  /** Ended by a newline (false only for a last line still being written, or a file without a final newline). */
  complete: boolean;
}

/** Offset of the first byte of the UTF-8 character that `end` falls into (so a cut never splits one). */
function utf8Boundary(buf: Buffer, end: number): number {
  let i = end;
  // A continuation byte (10xxxxxx) belongs to the character before it.
  while (i > 0 && i < buf.length && ((buf[i] as number) & 0xc0) === 0x80) i--;
  return i;
}

/** Decodes a line's bytes, cut to `keep` at a character boundary, without a trailing \r. */
export function decodeLineBytes(bytes: Buffer, keep = MAX_LINE_KEEP): { text: string; cutBytes: number } {
  let end = bytes.length;
  let cutBytes = 0;
  if (end > keep) {
    end = utf8Boundary(bytes, keep);
    cutBytes = bytes.length - end;
  }
  if (cutBytes === 0 && end > 0 && bytes[end - 1] === 0x0d) end -= 1;
  return { text: bytes.toString('utf8', 0, end), cutBytes };
}

/** Forward, line by line, from any line start. Not for scanning a whole file (use scanLineChunks). */
export class LineCursor {
  private buf: Buffer;
  private bufStart: number;
  private bufLen = 0;
  private pos = 0;
  private eof = false;

  constructor(
    private readonly fh: FileHandle,
    position: number,
    chunkBytes = 64 * 1024,
    /** Treat this offset as the end of the file (a consistent view of a growing file). */
    private readonly end = Number.POSITIVE_INFINITY,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
    this.bufStart = position;
  }

  /** Offset of the next unread byte: the start of the next line. */
  get position(): number {
    return this.bufStart + this.pos;
  }

  private async refill(): Promise<boolean> {
    if (this.eof) return false;
    this.bufStart += this.bufLen;
    this.pos = 0;
    this.bufLen = 0;
    const want = Math.min(this.buf.length, this.end - this.bufStart);
    if (want <= 0) {
      this.eof = true;
      return false;
    }
    const { bytesRead } = await this.fh.read(this.buf, 0, want, this.bufStart);
    this.bufLen = bytesRead;
    if (bytesRead === 0) this.eof = true;
    return bytesRead > 0;
  }

  /** The next line, or null at the end. */
  async next(): Promise<RawLine | null> {
    const start = this.position;
    let parts: Buffer[] | null = null;
    let kept = 0;
    let total = 0;
    for (;;) {
      if (this.pos >= this.bufLen && !(await this.refill())) {
        if (total === 0) return null;
        return this.finish(start, parts, total, false);
      }
      const nl = this.buf.subarray(0, this.bufLen).indexOf(NEWLINE, this.pos);
      const segEnd = nl === -1 ? this.bufLen : nl;
      if (parts === null && nl !== -1) {
        // The whole line lies in the buffer: decode it in place.
        const { text, cutBytes } = decodeLineBytes(this.buf.subarray(this.pos, segEnd));
        this.pos = nl + 1;
        return { start, next: this.position, text, cutBytes, complete: true };
      }
      parts ??= [];
      const segLen = segEnd - this.pos;
      if (kept < MAX_LINE_KEEP + 4) {
        const take = Math.min(segLen, MAX_LINE_KEEP + 4 - kept);
        parts.push(Buffer.from(this.buf.subarray(this.pos, this.pos + take)));
        kept += take;
      }
      total += segLen;
      if (nl === -1) {
        this.pos = this.bufLen;
        continue;
      }
      this.pos = nl + 1;
      return this.finish(start, parts, total, true);
    }
  }

  private finish(start: number, parts: Buffer[] | null, total: number, complete: boolean): RawLine {
    const bytes = parts ? Buffer.concat(parts) : Buffer.alloc(0);
    const { text, cutBytes } = decodeLineBytes(bytes);
    return { start, next: this.position, text, cutBytes: cutBytes + (total - bytes.length), complete };
  }

  /** Skips up to n lines without decoding them; returns how many were skipped. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    while (skipped < n) {
      if (this.pos >= this.bufLen && !(await this.refill())) return skipped;
      const nl = this.buf.subarray(0, this.bufLen).indexOf(NEWLINE, this.pos);
      if (nl === -1) {
        this.pos = this.bufLen;
        // A last line without a newline still counts once the end is reached.
        if (!(await this.refill())) return skipped + 1;
        continue;
      }
      this.pos = nl + 1;
      skipped++;
    }
    return skipped;
  }
}

/**
 * The lines before `end`, newest first. `end` is the end of the file as the caller saw it;
 * a newline right before it terminates the last line rather than starting an empty one.
 */
export async function* linesBackward(fh: FileHandle, end: number, chunkBytes = 64 * 1024): AsyncGenerator<RawLine> {
  if (end <= 0) return;
  const buf = Buffer.allocUnsafe(chunkBytes);
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, end - 1);
  const endsWithNewline = last[0] === NEWLINE;
  let lineEnd = endsWithNewline ? end - 1 : end;
  let next = end;
  let pos = lineEnd;
  let complete = endsWithNewline;
  /** Bytes of the current line read so far, from some point to its end; only its head matters. */
  let carry: Buffer | null = null;
  const lineOf = (start: number, head: Buffer): RawLine => {
    const { text, cutBytes } = decodeLineBytes(head);
    const dropped = lineEnd - start - head.length;
    return { start, next, text, cutBytes: cutBytes + dropped, complete };
  };
  while (pos > 0) {
    const from = Math.max(0, pos - chunkBytes);
    const { bytesRead } = await fh.read(buf, 0, pos - from, from);
    let i = bytesRead;
    for (;;) {
      const nl = i > 0 ? buf.lastIndexOf(NEWLINE, i - 1) : -1;
      if (nl === -1) {
        const piece = buf.subarray(0, i);
        carry = carry ? Buffer.concat([piece, carry]) : Buffer.from(piece);
        // Keep the head side only: the end of a giant line is never shown.
        if (carry.length > MAX_LINE_KEEP + 4) carry = carry.subarray(0, MAX_LINE_KEEP + 4);
        break;
      }
      const piece = buf.subarray(nl + 1, i);
      let head = carry ? Buffer.concat([piece, carry]) : piece;
      if (head.length > MAX_LINE_KEEP + 4) head = head.subarray(0, MAX_LINE_KEEP + 4);
      yield lineOf(from + nl + 1, head);
      carry = null;
      complete = true;
      next = from + nl + 1;
      lineEnd = from + nl;
      i = nl;
    }
    pos = from;
  }
  yield lineOf(0, carry ?? Buffer.alloc(0));
}

/** A run of whole lines, decoded. */
export interface LineChunk {
  /** Whole lines joined by \n; the last line of the chunk ends with \n unless it is the file's last. */
  text: string;
  /** The chunk's bytes; valid only until the scan moves on. */
  buf: Buffer;
  /** How `text` was decoded: latin1 maps each byte to one character (positions are byte offsets). */
  encoding: ChunkEncoding;
  /** Byte offset of the chunk's first line. */
  fileOffset: number;
  /** Bytes covered, newlines included (more than `text` holds when a giant line was cut). */
  bytes: number;
  /** 0-based index of the chunk's first line in the file. */
  lineIndex: number;
  /** Lines in the chunk. */
  lineCount: number;
  /** Character positions in `text` are byte offsets from `fileOffset` (every character is one byte). */
  aligned: boolean;
}

/**
 * utf8 for regular expressions (a `.` is one character); latin1 for ASCII literals, which is
 * 2-3 times faster to decode and search, and keeps character positions equal to byte offsets.
 */
export type ChunkEncoding = 'utf8' | 'latin1';

export interface ScanOptions {
  /** A line start. */
  from: number;
  /** The 0-based index of the line at `from`. */
  lineIndex: number;
  /** Stop here (exclusive); default: the end of the file when reached. */
  end?: number;
  chunkBytes?: number;
  /** The first read is smaller, so that a search shows its first hits at once. */
  firstChunkBytes?: number;
  /** A line longer than this is searched in its first this-many bytes only. */
  maxLineBytes?: number;
  encoding?: ChunkEncoding;
  signal?: AbortSignal;
}

export const SCAN_CHUNK_BYTES = 4 * 1024 * 1024;
const MAX_SCAN_LINE_BYTES = 16 * 1024 * 1024;

function countNewlines(buf: Buffer, from: number, to: number): number {
  const view = to === buf.length ? buf : buf.subarray(0, to);
  let n = 0;
  let p = from;
  for (;;) {
    p = view.indexOf(NEWLINE, p);
    if (p === -1) return n;
    n++;
    p++;
  }
}

/**
 * The file from `from` in big chunks of whole lines. Each read is awaited, so the event loop
 * runs between chunks; an aborted signal stops the scan between two chunks.
 */
export async function* scanLineChunks(fh: FileHandle, opts: ScanOptions): AsyncGenerator<LineChunk> {
  const chunkBytes = opts.chunkBytes ?? SCAN_CHUNK_BYTES;
  const maxLine = Math.max(chunkBytes, opts.maxLineBytes ?? MAX_SCAN_LINE_BYTES);
  const end = opts.end ?? Number.POSITIVE_INFINITY;
  const encoding = opts.encoding ?? 'utf8';
  let buf = Buffer.allocUnsafe(chunkBytes);
  let fill = 0;
  let fileOffset = opts.from;
  let lineIndex = opts.lineIndex;
  let firstRead = true;
  for (;;) {
    if (opts.signal?.aborted) return;
    const readAt = fileOffset + fill;
    let want = Math.min(buf.length - fill, end - readAt);
    if (firstRead && opts.firstChunkBytes) want = Math.min(want, opts.firstChunkBytes);
    firstRead = false;
    const bytesRead = want > 0 ? (await fh.read(buf, fill, want, readAt)).bytesRead : 0;
    if (opts.signal?.aborted) return;
    if (bytesRead === 0) {
      if (fill > 0) {
        const text = buf.toString(encoding, 0, fill);
        yield { text, buf: buf.subarray(0, fill), encoding, fileOffset, bytes: fill, lineIndex, lineCount: 1, aligned: text.length === fill };
      }
      return;
    }
    fill += bytesRead;
    const last = buf.lastIndexOf(NEWLINE, fill - 1);
    if (last === -1) {
      if (fill < buf.length) continue;
      if (buf.length < maxLine) {
        const bigger = Buffer.allocUnsafe(Math.min(maxLine, buf.length * 2));
        buf.copy(bigger, 0, 0, fill);
        buf = bigger;
        continue;
      }
      // A line longer than maxLine: its head is one line; the rest is skipped, not split off.
      const cut = utf8Boundary(buf, fill);
      const text = `${buf.toString(encoding, 0, cut)}\n`;
      const lineStart = fileOffset;
      fileOffset = (await skipToNewline(fh, fileOffset + fill, end)).next;
      fill = 0;
      yield { text, buf: buf.subarray(0, cut), encoding, fileOffset: lineStart, bytes: fileOffset - lineStart, lineIndex, lineCount: 1, aligned: false };
      lineIndex += 1;
      continue;
    }
    const bytes = last + 1;
    const text = buf.toString(encoding, 0, bytes);
    const lineCount = countNewlines(buf, 0, bytes);
    yield { text, buf: buf.subarray(0, bytes), encoding, fileOffset, bytes, lineIndex, lineCount, aligned: text.length === bytes };
    lineIndex += lineCount;
    fileOffset += bytes;
    buf.copyWithin(0, bytes, fill);
    fill -= bytes;
  }
}

/** Reads forward from `from` to just past the next newline (or the end). */
async function skipToNewline(fh: FileHandle, from: number, end: number): Promise<{ next: number }> {
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let pos = from;
  for (;;) {
    const want = Math.min(buf.length, end - pos);
    if (want <= 0) return { next: pos };
    const { bytesRead } = await fh.read(buf, 0, want, pos);
    if (bytesRead === 0) return { next: pos };
    const nl = buf.subarray(0, bytesRead).indexOf(NEWLINE);
    if (nl !== -1) return { next: pos + nl + 1 };
    pos += bytesRead;
  }
}

/** Newlines in [from, to) of a file, read in big chunks (the index's inner loop, reused). */
export async function countNewlinesInFile(fh: FileHandle, from: number, to: number, chunkBytes = 1024 * 1024): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(chunkBytes, Math.max(1, to - from)));
  let n = 0;
  let pos = from;
  while (pos < to) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - pos), pos);
    if (bytesRead === 0) break;
    n += countNewlines(buf, 0, bytesRead);
    pos += bytesRead;
  }
  return n;
}

export { countNewlines };
