import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { LogLevelName, LogLine } from '../../shared/contract/logs.js';
import { levelAtLeast } from '../../shared/logLevels.js';
import { LineCursor, linesBackward } from './lineReading.js';
import { levelOfText, toLogLine } from './logLineParser.js';

export interface TailOptions {
  /** Lines shown before following (at most). */
  last: number;
  level?: LogLevelName;
  /** The stat poll that backs up fs.watch (which misses events on some file systems). */
  pollMs?: number;
  /** How far back the first lines are looked for when a level filter is set. */
  lookbackBytes?: number;
  /** Bytes read per check; a burst is followed in steps, never skipped. */
  maxBytesPerCheck?: number;
  /**
   * The 0-based index of the line starting at `offset` of the file as it is now, when known
   * (from a line index), so tailed lines carry their line numbers.
   */
  lineIndexAt?: (offset: number) => Promise<number | null>;
}

/**
 * Follows a log file: the last `last` complete lines, then every line appended, until the
 * signal aborts. fs.watch wakes it at once; a stat poll every `pollMs` backs it up. A file
 * that is replaced (rotation: renamed away, a new one created) is read to its end through the
 * handle still open on it, then the new file is followed from its first line; a file that
 * shrinks (truncated in place) is followed from its start again. Only complete lines are
 * emitted: a line is shown once its newline is written.
 */
export async function tailLogFile(
  path: string,
  opts: TailOptions,
  emit: (line: LogLine) => void,
  signal: AbortSignal,
): Promise<void> {
  const pollMs = opts.pollMs ?? 250;
  const lookback = opts.lookbackBytes ?? 64 * 1024 * 1024;
  const maxBytesPerCheck = opts.maxBytesPerCheck ?? 4 * 1024 * 1024;
  const wanted = (text: string): boolean => !opts.level || levelAtLeast(levelOfText(text), opts.level);

  let fh: FileHandle = await open(path, 'r');
  let ino = (await fh.stat()).ino;
  /** Where the next unread line starts. */
  let pos = 0;
  /** The 0-based index of the line at `pos`, when known. */
  let nextLine: number | null = null;

  try {
    // The first lines: backwards from the last complete line.
    const size = (await fh.stat()).size;
    const firstLines: { text: string; cutBytes: number; back: number }[] = [];
    let back = 0;
    let end = size;
    for await (const line of linesBackward(fh, size)) {
      if (!line.complete) {
        // Still being written: it is read again, whole, when its newline arrives.
        end = line.start;
        continue;
      }
      if (firstLines.length >= opts.last || end - line.start > lookback) break;
      if (wanted(line.text)) firstLines.push({ text: line.text, cutBytes: line.cutBytes, back });
      back++;
    }
    pos = end;
    nextLine = opts.lineIndexAt ? await opts.lineIndexAt(pos).catch(() => null) : null;
    if (signal.aborted) return;
    for (const l of firstLines.reverse()) {
      emit(toLogLine(l.text, nextLine === null ? null : nextLine - l.back, l.cutBytes));
    }
  } catch (err) {
    await fh.close();
    throw err;
  }

  let checking = false;
  let again = false;
  let watcher: FSWatcher | null = null;

  /** Emits the complete lines after `pos` (and, when the file is done with, an unfinished last one). */
  const readNew = async (limit: number, finalRead = false): Promise<boolean> => {
    const cursor = new LineCursor(fh, pos, 256 * 1024);
    let read = 0;
    let askedForNumber = false;
    for (;;) {
      const line = await cursor.next();
      if (!line || (!line.complete && !finalRead)) return false;
      if (signal.aborted) return false;
      if (nextLine === null && opts.lineIndexAt && !askedForNumber) {
        askedForNumber = true;
        nextLine = await opts.lineIndexAt(line.start).catch(() => null);
      }
      if (wanted(line.text)) emit(toLogLine(line.text, nextLine === null ? null : nextLine + 1, line.cutBytes));
      pos = line.next;
      if (nextLine !== null) nextLine++;
      read += line.next - line.start;
      if (read >= limit) return true;
    }
  };

  const startWatching = (): void => {
    watcher?.close();
    watcher = null;
    try {
      watcher = watch(path, { persistent: false }, () => schedule());
      watcher.on('error', () => {
        watcher?.close();
        watcher = null;
      });
    } catch {
      // Not there right now (between rename and create): the poll finds the new file.
    }
  };

  const check = async (): Promise<void> => {
    let current;
    try {
      current = await stat(path);
    } catch {
      current = null;
    }
    if (current && current.ino !== ino) {
      // Rotated: finish the old file through its handle, then the new one from its start.
      await readNew(Number.POSITIVE_INFINITY, true);
      await fh.close();
      fh = await open(path, 'r');
      ino = (await fh.stat()).ino;
      pos = 0;
      nextLine = 0;
      startWatching();
    } else if (current && current.size < pos) {
      pos = 0;
      nextLine = 0;
    }
    if (await readNew(maxBytesPerCheck)) again = true;
  };

  const schedule = (): void => {
    if (signal.aborted) return;
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    void (async () => {
      try {
        do {
          again = false;
          await check();
        } while (again && !signal.aborted);
      } catch {
        // A check that failed (file gone for a moment) is retried by the next poll.
      } finally {
        checking = false;
      }
    })();
  };

  startWatching();
  const timer = setInterval(schedule, pollMs);
  schedule();
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  clearInterval(timer);
  (watcher as FSWatcher | null)?.close();
  while (checking) await new Promise((r) => setTimeout(r, 5));
  await fh.close();
}
