import { open, stat } from 'node:fs/promises';
import { NEWLINE, countNewlinesInFile } from './lineReading.js';

/** Where a line starts: the nearest checkpoint at or before it, and the lines to skip from there. */
export interface LineLocation {
  offset: number;
  skip: number;
}

export interface LineIndexState {
  done: boolean;
  /** 0..1: bytes counted over the file's size. */
  progress: number;
  /** Lines in the file, once the index is done. */
  lines: number | null;
}

export interface LineIndexOptions {
  /** A checkpoint every this many lines. */
  stride?: number;
  /** Read size of the build (one buffer, reused). */
  chunkBytes?: number;
  /** Growth up to this size is indexed before refresh() returns, so a page of a live log stays numbered. */
  inlineCatchUpBytes?: number;
}

const HEAD_BYTES = 64;

/**
 * A sparse line-offset index of one file: the byte offset of every `stride`-th line start,
 * built in the background with streamed reads into one reused buffer (newlines counted with
 * Buffer.indexOf, i.e. memchr). Each read is awaited, so the event loop serves other requests
 * between chunks. A file that grows is indexed further from where the index stopped; a file
 * that shrinks, or is replaced (another inode, or other first bytes: copy-truncate rotation),
 * is indexed again from the start.
 *
 * 1 GB of 200-byte lines is ~5 M lines: 5,000 checkpoints, 40 KB.
 */
export class LineIndex {
  readonly stride: number;
  private readonly chunkBytes: number;
  private readonly inlineCatchUpBytes: number;
  private checkpoints = new Float64Array(256);
  private cpCount = 1;
  private newlines = 0;
  /** Bytes counted. */
  private scanned = 0;
  /** Offset just past the last newline counted. */
  private lastLineEnd = 0;
  /** The file's size as last seen. */
  private size = 0;
  private identity: { dev: number; ino: number } | null = null;
  private head: Buffer | null = null;
  private building: Promise<void> | null = null;
  private gen = 0;
  private closed = false;
  private failure: Error | null = null;
  private waiters: { lines: number; resolve: () => void }[] = [];

  constructor(
    readonly path: string,
    opts: LineIndexOptions = {},
  ) {
    this.stride = opts.stride ?? 1000;
    this.chunkBytes = opts.chunkBytes ?? 4 * 1024 * 1024;
    this.inlineCatchUpBytes = opts.inlineCatchUpBytes ?? 8 * 1024 * 1024;
  }

  /** Changes whenever the index starts over (rotation, truncation): caches built on it are void. */
  get generation(): number {
    return this.gen;
  }

  get done(): boolean {
    return this.identity !== null && this.building === null && this.scanned >= this.size && this.failure === null;
  }

  /** The file's size as last seen. */
  get fileBytes(): number {
    return this.size;
  }

  /** Bytes of the file the index covers. */
  get indexedBytes(): number {
    return this.scanned;
  }

  /** Lines counted so far (complete ones); the total once done. */
  get linesKnown(): number {
    return this.done ? this.totalLines() : this.newlines;
  }

  state(): LineIndexState {
    const done = this.done;
    const progress = this.size === 0 ? (done ? 1 : 0) : Math.min(1, this.scanned / this.size);
    return { done, progress: done ? 1 : progress, lines: done ? this.totalLines() : null };
  }

  private totalLines(): number {
    return this.newlines + (this.scanned > this.lastLineEnd ? 1 : 0);
  }

  /** Lines in the file: known only when done. */
  get lines(): number | null {
    return this.done ? this.totalLines() : null;
  }

  /**
   * Looks at the file again and keeps the index going. Rotated or shrunk: start over.
   * Grown: continue; a small growth is indexed before this returns.
   */
  async refresh(): Promise<void> {
    if (this.closed) return;
    const st = await stat(this.path);
    let restart = false;
    if (this.identity && (st.ino !== this.identity.ino || st.dev !== this.identity.dev)) restart = true;
    else if (st.size < this.scanned) restart = true;
    else if (this.head && this.head.length > 0 && !(await this.sameHead())) restart = true;
    if (restart) this.reset();
    this.identity = { dev: st.dev, ino: st.ino };
    this.size = Math.max(st.size, this.scanned);
    if (this.scanned < st.size || this.failure) {
      this.failure = null;
      const building = this.ensureBuilding();
      if (st.size - this.scanned <= this.inlineCatchUpBytes) await building;
    }
  }

  private async sameHead(): Promise<boolean> {
    const head = this.head;
    if (!head) return true;
    const fh = await open(this.path, 'r');
    try {
      const now = Buffer.alloc(head.length);
      const { bytesRead } = await fh.read(now, 0, head.length, 0);
      return bytesRead === head.length && now.equals(head);
    } finally {
      await fh.close();
    }
  }

  private reset(): void {
    this.gen++;
    this.checkpoints = new Float64Array(256);
    this.cpCount = 1;
    this.newlines = 0;
    this.scanned = 0;
    this.lastLineEnd = 0;
    this.head = null;
    this.building = null;
    this.failure = null;
    this.wake();
  }

  private ensureBuilding(): Promise<void> {
    if (!this.building) {
      const gen = this.gen;
      this.building = this.build(gen).finally(() => {
        if (this.gen === gen) this.building = null;
        this.wake();
      });
    }
    return this.building;
  }

  private async build(gen: number): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      this.failure = err as Error;
      return;
    }
    const buf = Buffer.allocUnsafe(this.chunkBytes);
    try {
      const st = await fh.stat();
      if (this.identity && (st.ino !== this.identity.ino || st.dev !== this.identity.dev)) {
        // Replaced between stat and open: what we opened is the file now at the path.
        if (this.scanned > 0) return;
        this.identity = { dev: st.dev, ino: st.ino };
      }
      for (;;) {
        if (this.gen !== gen || this.closed) return;
        const at = this.scanned;
        const { bytesRead } = await fh.read(buf, 0, buf.length, at);
        if (this.gen !== gen || this.closed) return;
        if (bytesRead === 0) return;
        if (at === 0) this.head = Buffer.from(buf.subarray(0, Math.min(HEAD_BYTES, bytesRead)));
        const view = bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
        let p = view.indexOf(NEWLINE, 0);
        while (p !== -1) {
          this.newlines++;
          this.lastLineEnd = at + p + 1;
          if (this.newlines % this.stride === 0) this.addCheckpoint(this.lastLineEnd);
          p = view.indexOf(NEWLINE, p + 1);
        }
        this.scanned = at + bytesRead;
        if (this.scanned > this.size) this.size = this.scanned;
        this.wake();
      }
    } catch (err) {
      this.failure = err as Error;
    } finally {
      await fh.close();
    }
  }

  private addCheckpoint(offset: number): void {
    if (this.cpCount === this.checkpoints.length) {
      const bigger = new Float64Array(this.checkpoints.length * 2);
      bigger.set(this.checkpoints);
      this.checkpoints = bigger;
    }
    this.checkpoints[this.cpCount++] = offset;
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const idle = this.building === null || this.closed;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (idle || this.newlines >= w.lines) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Resolves once `lines` complete lines are counted, or the build has stopped (done or failed). */
  whenLines(lines: number): Promise<void> {
    if (this.building === null || this.newlines >= lines || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ lines, resolve }));
  }

  /** Resolves when the build in progress (if any) has finished. Throws what stopped it, if it failed. */
  async whenDone(): Promise<void> {
    while (this.building) await this.building;
    if (this.failure) throw this.failure;
  }

  /** Where the 0-based line `index` starts: a checkpoint and lines to skip from there. */
  locate(index: number): LineLocation {
    const j = Math.min(Math.floor(index / this.stride), this.cpCount - 1);
    return { offset: this.checkpoints[j] as number, skip: index - j * this.stride };
  }

  /** Checkpoints of existing lines: checkpoint j is the start of line j × stride. */
  get checkpointCount(): number {
    const lines = this.done ? this.totalLines() : this.newlines;
    return Math.min(this.cpCount, Math.max(1, Math.ceil(lines / this.stride)));
  }

  checkpoint(j: number): number {
    return this.checkpoints[j] as number;
  }

  /**
   * The 0-based index of the line that starts at `offset` (a line start within the indexed
   * part), or null when the index does not reach it yet.
   */
  async lineIndexAt(offset: number): Promise<number | null> {
    if (offset > this.lastLineEnd) return null;
    const gen = this.gen;
    let lo = 0;
    let hi = this.cpCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.checkpoints[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const from = this.checkpoints[lo] as number;
    const fh = await open(this.path, 'r');
    try {
      const n = await countNewlinesInFile(fh, from, offset);
      return this.gen === gen ? lo * this.stride + n : null;
    } finally {
      await fh.close();
    }
  }

  close(): void {
    this.closed = true;
    this.gen++;
    this.building = null;
    this.wake();
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }
}
