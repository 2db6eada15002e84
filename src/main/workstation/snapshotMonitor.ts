import { mkdirSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import { readSnapshotFile } from '../../io/snapshotFile.js';
import type { Snapshot } from '../../shared/snapshot.js';

const SNAPSHOT_FILE = /^snapshot_(.+)\.json$/;

export interface MonitoredSnapshot {
  snapshot: Snapshot;
  file: string;
  mtimeMs: number;
  bytes: number;
}

export interface SnapshotMonitorEvents {
  updated(variant: string, entry: MonitoredSnapshot): void;
  /** A file that is not a valid snapshot; the last good one is kept. */
  invalid(variant: string, file: string, error: string): void;
  /** The variant's snapshot file is gone (its publisher removed it): the monitor forgets the variant. */
  removed(variant: string): void;
}

/**
 * Watches the monitor directory. Any process, ours or not, that drops a valid
 * `snapshot_<variant>.json` there appears in the workstation. inotify tells us quickly;
 * a slow poll of mtimes catches what a watcher can miss (network drives, renames).
 */
export class SnapshotMonitor {
  private readonly latest = new Map<string, MonitoredSnapshot>();
  private readonly seenMtime = new Map<string, number>();
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scheduled = false;

  constructor(
    readonly dir: string,
    private readonly events: SnapshotMonitorEvents,
    private readonly pollMs = 500,
  ) {}

  start(): void {
    mkdirSync(this.dir, { recursive: true });
    try {
      this.watcher = watch(this.dir, () => this.schedule());
    } catch {
      this.watcher = null;
    }
    this.scan();
    this.timer = setInterval(() => this.scan(), this.pollMs);
  }

  stop(): void {
    this.watcher?.close();
    if (this.timer) clearInterval(this.timer);
    this.watcher = null;
    this.timer = null;
  }

  get(variant: string): MonitoredSnapshot | undefined {
    return this.latest.get(variant);
  }

  all(): Map<string, MonitoredSnapshot> {
    return this.latest;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Coalesce the burst of events one rename produces.
    setTimeout(() => {
      this.scheduled = false;
      this.scan();
    }, 15);
  }

  /** Writers replace a snapshot by rename, so a file missing from a listing was deleted, not rewritten. */
  private forgetRemoved(present: ReadonlySet<string>): void {
    for (const file of [...this.seenMtime.keys()]) {
      if (present.has(basename(file))) continue;
      this.seenMtime.delete(file);
      for (const [variant, entry] of this.latest) {
        if (entry.file !== file) continue;
        this.latest.delete(variant);
        this.events.removed(variant);
      }
    }
  }

  scan(): void {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return;
    }
    this.forgetRemoved(new Set(names));
    for (const name of names) {
      const m = SNAPSHOT_FILE.exec(name);
      if (!m?.[1]) continue;
      const variant = m[1];
      const file = join(this.dir, name);
      let mtimeMs: number;
      try {
        mtimeMs = statSync(file).mtimeMs;
      } catch {
        continue;
      }
      if (this.seenMtime.get(file) === mtimeMs) continue;
      this.seenMtime.set(file, mtimeMs);
      const result = readSnapshotFile(file);
      if (!result.ok) {
        this.events.invalid(variant, file, result.error);
        continue;
      }
      if (result.snapshot.variant !== variant) {
        this.events.invalid(variant, file, `${file}: field "variant": "${result.snapshot.variant}" does not match the file name`);
        continue;
      }
      const entry = { snapshot: result.snapshot, file, mtimeMs, bytes: result.bytes };
      this.latest.set(variant, entry);
      this.events.updated(variant, entry);
    }
  }
}
