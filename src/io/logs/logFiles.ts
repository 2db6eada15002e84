import type { Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { ApiError } from '../../shared/contractKit.js';
import { countNewlines } from './lineReading.js';

/** `strategy.log`, and its rotated siblings `strategy.log.1` … */
export const LOG_FILE_RE = /\.log(?:\.\d+)?$/;
/** Folders below the logs folder looked into. */
const MAX_DEPTH = 6;

export interface FoundLogFile {
  /** Relative to the logs folder, with forward slashes. */
  file: string;
  /** The real path, symlinks resolved. */
  abs: string;
  /** The top folder it sits in (the variant's folder), or null at the top. */
  variant: string | null;
  bytes: number;
  modifiedAt: string;
  /** Identity and version, for caches. */
  ino: number;
  mtimeMs: number;
}

function inside(root: string, path: string): boolean {
  return path.startsWith(root.endsWith(sep) ? root : root + sep);
}

function variantOf(file: string): string | null {
  const slash = file.indexOf('/');
  return slash > 0 ? file.slice(0, slash) : null;
}

/**
 * Every log file under `logsDir`, recursively (a few levels). A symlink is listed only when
 * what it points at is a file inside the logs folder; symlinked folders are not entered.
 */
export async function findLogFiles(logsDir: string): Promise<FoundLogFile[]> {
  let realRoot: string;
  try {
    realRoot = await realpath(logsDir);
  } catch {
    return [];
  }
  const found: FoundLogFile[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(path, depth + 1);
        continue;
      }
      if (!LOG_FILE_RE.test(entry.name) || !(entry.isFile() || entry.isSymbolicLink())) continue;
      try {
        const real = entry.isSymbolicLink() ? await realpath(path) : path;
        if (!inside(realRoot, real)) continue;
        const st = await stat(real);
        if (!st.isFile()) continue;
        const file = relative(realRoot, path).split(sep).join('/');
        found.push({
          file,
          abs: real,
          variant: variantOf(file),
          bytes: st.size,
          modifiedAt: st.mtime.toISOString(),
          ino: st.ino,
          mtimeMs: st.mtimeMs,
        });
      } catch {
        // Gone between readdir and stat (rotation): the next listing has it.
      }
    }
  };
  await walk(realRoot, 0);
  return found.sort((a, b) => a.file.localeCompare(b.file));
}

/**
 * The real path of a log file named relative to the logs folder. Refused: a name that is not
 * a log file's (400), a path that leaves the folder, itself or through a symlink (403), a file
 * that is not there (404). The check is made after resolving, so `a/../../x.log` and a
 * symlink to /etc are refused alike.
 */
export async function resolveLogFile(logsDir: string, file: string): Promise<{ file: string; abs: string }> {
  if (!LOG_FILE_RE.test(file)) throw new ApiError(400, `${file} is not a log file (*.log or *.log.N)`);
  const root = resolve(logsDir);
  const abs = resolve(root, file);
  if (!inside(root, abs)) throw new ApiError(403, `${file} is outside the logs folder`);
  let real: string;
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    real = await realpath(abs);
  } catch {
    throw new ApiError(404, `no log file ${file}`);
  }
  if (!inside(realRoot, real)) throw new ApiError(403, `${file} leads outside the logs folder`);
  const st = await stat(real).catch(() => null);
  if (!st?.isFile()) throw new ApiError(404, `no log file ${file}`);
  return { file: relative(root, abs).split(sep).join('/'), abs: real };
}

/** Lines in a file, counted in one pass (for small files listed without an index). */
export async function countFileLines(abs: string): Promise<number> {
  const fh = await open(abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    let pos = 0;
    let newlines = 0;
    let lastByte = 0x0a;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      newlines += countNewlines(buf, 0, bytesRead);
      lastByte = buf[bytesRead - 1] as number;
      pos += bytesRead;
    }
    return newlines + (pos > 0 && lastByte !== 0x0a ? 1 : 0);
  } finally {
    await fh.close();
  }
}
