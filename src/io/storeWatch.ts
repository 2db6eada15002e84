/**
 * How a worker learns that the bar store has new rows.
 *
 * SQLite: a commit by another process (vnpy's DataRecorder, the demo market) appends to the
 * database's `-wal` file (in rollback-journal mode it writes the database file and deletes the
 * `-journal`). The directory is watched rather than the file, because the `-wal` file is
 * deleted when its last connection closes and then recreated: a watch on the file itself would go
 * deaf. An event only says "something was written"; `PRAGMA data_version` confirms that a commit
 * landed. An event that does not show a new version yet is checked again a little later
 * (RECHECK_MS), since the event comes before the commit is published. A watcher can miss events
 * (network file systems, an overflowing inotify queue), so the poll stays as the fallback.
 *
 * MySQL has no such signal: it is polled.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { BarStore } from './barStore.js';
import { SqliteBarStore } from './sqliteBarStore.js';

/**
 * After a file event that shows no new commit yet, look again after these many ms: between the
 * write of a commit's frames (the event) and their publication in the WAL index comes the
 * writer's fsync (vnpy keeps SQLite's synchronous = FULL), which a busy disk can stretch to
 * hundreds of ms.
 */
const RECHECK_MS = [1, 4, 10, 25, 50, 100, 200, 400, 800, 1_600];

export interface FollowStoreOptions {
  /** Reads what is new; never run twice at once. */
  read: () => Promise<void>;
  /** The poll: `read` runs at least this often whatever the watcher says. */
  pollMs: number;
  /** Watch a SQLite store's files (default true); false = poll only. */
  watch?: boolean;
  /** A watcher that cannot be set up (e.g. inotify limits): the poll carries on alone. */
  onWatchError?: (err: Error) => void;
}

export interface StoreFollower {
  /** 'watch' when commits wake the reader, 'poll' when only the timer does. */
  readonly mode: 'watch' | 'poll';
  readonly pollMs: number;
  /** How many reads a confirmed commit started (the rest were the poll's). */
  readonly wakeups: number;
  /** Runs `read` now (or right after the one running): for work that must share its turn, e.g. a heartbeat. */
  wake(): void;
  close(): void;
}

/**
 * Runs `read` now, then whenever a commit is noticed and at least every `pollMs`. Reads never
 * overlap: a commit noticed during one starts another right after it.
 */
export function followStore(store: BarStore, opts: FollowStoreOptions): StoreFollower {
  let closed = false;
  let running = false;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let wakeups = 0;

  const run = (): void => {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    if (timer) clearTimeout(timer);
    timer = null;
    running = true;
    again = false;
    void opts.read().finally(() => {
      running = false;
      if (closed) return;
      if (again) setImmediate(run);
      else timer = setTimeout(run, opts.pollMs);
    });
  };

  const watcher = opts.watch !== false && store instanceof SqliteBarStore ? watchSqliteCommits(store, () => {
    wakeups++;
    run();
  }, opts.onWatchError) : null;

  run();
  return {
    mode: watcher ? 'watch' : 'poll',
    pollMs: opts.pollMs,
    get wakeups() {
      return wakeups;
    },
    wake: run,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      watcher?.close();
    },
  };
}

/** Calls `onCommit` when another connection's commit to `store` is seen. Null when the directory cannot be watched. */
function watchSqliteCommits(store: SqliteBarStore, onCommit: () => void, onError?: (err: Error) => void): { close(): void } | null {
  const name = basename(store.file);
  const names = new Set([name, `${name}-wal`, `${name}-journal`]);
  let seen = store.dataVersion();
  let pending: NodeJS.Timeout | null = null;
  let attempt = 0;
  let closed = false;

  const check = (): void => {
    pending = null;
    if (closed) return;
    let version: number;
    try {
      version = store.dataVersion();
    } catch {
      return; // the store is closing or busy: the poll will read
    }
    if (version !== seen) {
      seen = version;
      attempt = 0;
      onCommit();
      return;
    }
    const delay = RECHECK_MS[attempt++];
    if (delay !== undefined) pending = setTimeout(check, delay);
    else attempt = 0;
  };

  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(store.file), { persistent: false }, (_event, file) => {
      if (file !== null && !names.has(file)) return;
      // A burst of writes is one check; a check already waiting restarts its rechecks.
      attempt = 0;
      if (pending === null) pending = setTimeout(check, 0);
    });
  } catch (err) {
    onError?.(err instanceof Error ? err : new Error(String(err)));
    return null;
  }
  watcher.on('error', (err) => {
    onError?.(err);
    watcher.close();
  });
  return {
    close() {
      closed = true;
      if (pending) clearTimeout(pending);
      watcher.close();
    },
  };
}
