import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { reportWriteFailure } from './diskGuard.js';
import { join } from 'node:path';
import { snapshotFileName, snapshotSchema, type Snapshot, type SnapshotInput } from '../shared/snapshot.js';

/**
 * Writes the snapshot as a whole new file and renames it over the old one, so a reader
 * never sees half a snapshot, whoever is reading and whenever the writer dies.
 */
export function writeSnapshotAtomic(monitorDir: string, snapshot: SnapshotInput): string {
  mkdirSync(monitorDir, { recursive: true });
  const target = join(monitorDir, snapshotFileName(snapshot.variant));
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, target);
  } catch (err) {
    // The last whole snapshot stays; the next write (every bar, every heartbeat) tries again.
    rmSync(tmp, { force: true });
    if (!reportWriteFailure(target, err)) throw err;
  }
  return target;
}

export type SnapshotReadResult =
  | { ok: true; snapshot: Snapshot; bytes: number }
  | { ok: false; error: string };

/** Reads and validates one snapshot file; the error names the file and the failing field. */
export function readSnapshotFile(path: string): SnapshotReadResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `${path}: cannot read: ${(err as Error).message}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `${path}: not valid JSON: ${(err as Error).message}` };
  }
  const parsed = snapshotSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return { ok: false, error: `${path}: field "${field}": ${issue?.message ?? 'invalid'}` };
  }
  return { ok: true, snapshot: parsed.data, bytes: Buffer.byteLength(text) };
}
