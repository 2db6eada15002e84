/**
 * A full (or failing) disk must cost neither the process nor what is already stored. Every write
 * path (bars, journal, state, snapshot, logs, settings, audit) reports a failed write here; a
 * failure of the storage itself (ENOSPC, EDQUOT, EIO, SQLite's FULL and IOERR) starts a
 * "disk full" episode: the process's guard says so once (the path, the error, the free space)
 * and then probes, until a write succeeds again, when it says so too. Other errors are not
 * its business: the write path rethrows them.
 */
import { closeSync, fsyncSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const STORAGE_CODES = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'SQLITE_FULL', 'SQLITE_IOERR']);

/** ENOSPC and friends, from fs or from SQLite (whose codes are SQLITE_FULL, SQLITE_IOERR_WRITE, …). */
export function isStorageFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return STORAGE_CODES.has(code) || code.startsWith('SQLITE_IOERR');
}

/** Bytes a non-root writer may still use on the filesystem holding `path`; null when unknown. */
export function freeBytes(path: string): number | null {
  try {
    const s = statfsSync(path);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

export function formatBytes(n: number | null): string {
  if (n === null) return 'unknown';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(1)} GB`;
}

export interface DiskFull {
  /** The first path whose write failed in this episode. */
  path: string;
  code: string;
  freeBytes: number | null;
  since: Date;
  /** One line for an alert: what failed, where, how much room is left. */
  message: string;
}

export interface DiskGuardOptions {
  /** A folder on the disk to probe (the data directory). */
  probeDir: string;
  onFull: (episode: DiskFull) => void;
  onRecovered: (episode: DiskFull, freeBytes: number | null) => void;
  /** How often a full disk is probed; default 1000 ms. */
  probeMs?: number;
  /** Room a probe wants before it tries a write; default 1 MiB. */
  minFreeBytes?: number;
}

const PROBE_BYTES = 64 * 1024;

export class DiskGuard {
  private episode: DiskFull | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: DiskGuardOptions) {}

  /** The episode under way, or null while writes succeed. */
  get full(): DiskFull | null {
    return this.episode;
  }

  /**
   * A write to `path` failed with `err`. true: a storage failure, now known to the guard (the
   * caller keeps what it could not write and carries on); false: not the guard's business.
   */
  report(path: string, err: unknown): boolean {
    if (!isStorageFailure(err)) return false;
    if (this.episode) return true;
    const code = String((err as { code: string }).code);
    const free = freeBytes(this.opts.probeDir);
    this.episode = {
      path,
      code,
      freeBytes: free,
      since: new Date(),
      message: `${code} writing ${path}: ${formatBytes(free)} free on the disk of ${this.opts.probeDir}`,
    };
    this.timer = setInterval(() => this.probe(), this.opts.probeMs ?? 1000);
    this.timer.unref();
    this.opts.onFull(this.episode);
    return true;
  }

  /** A probe write of 64 KB (flushed, then removed): the disk takes writes again when it succeeds. */
  probe(): boolean {
    const episode = this.episode;
    if (!episode) return true;
    const free = freeBytes(this.opts.probeDir);
    if (free !== null && free < (this.opts.minFreeBytes ?? 1024 * 1024)) return false;
    const file = join(this.opts.probeDir, `.kestrel-disk-probe-${process.pid}`);
    try {
      const fd = openSync(file, 'w');
      try {
        writeSync(fd, Buffer.alloc(PROBE_BYTES));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    } finally {
      rmSync(file, { force: true });
    }
    this.episode = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.opts.onRecovered(episode, freeBytes(this.opts.probeDir));
    return true;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

let installed: DiskGuard | null = null;

/** The process's guard, which io write paths report to (main and each worker install their own). */
export function installDiskGuard(guard: DiskGuard | null): void {
  installed = guard;
}

/** For write paths: true when the failure is the disk's and a guard now knows (keep the data, carry on). */
export function reportWriteFailure(path: string, err: unknown): boolean {
  return installed ? installed.report(path, err) : false;
}
