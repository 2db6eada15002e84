import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SnapshotMonitor, type MonitoredSnapshot } from '../../src/main/workstation/snapshotMonitor.js';
import { snapshotJsonSchema } from '../../src/shared/snapshotJsonSchema.js';
import { freshDir, waitFor } from '../helpers.js';
import { harnessPerTest, type Harness } from './workstationHarness.js';

let cleanup: (() => void) | null = null;
let monitor: SnapshotMonitor | null = null;
afterEach(() => {
  monitor?.stop();
  cleanup?.();
});

const python = spawnSync('python3', ['--version']).status === 0;

describe('the open snapshot protocol', () => {
  it('ships a JSON Schema that matches the zod schema', () => {
    const shipped: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'resources', 'snapshot.schema.json'), 'utf8'));
    expect(shipped).toEqual(snapshotJsonSchema());
  });

  it.skipIf(!python)('a snapshot written by the Python example appears in the monitor (skipped without python3)', async () => {
    const tmp = freshDir('pypub');
    cleanup = tmp.remove;
    const seen = new Map<string, MonitoredSnapshot>();
    const invalid: string[] = [];
    monitor = new SnapshotMonitor(join(tmp.dir, 'monitor'), {
      updated: (v, e) => seen.set(v, e),
      invalid: (_v, _f, err) => invalid.push(err),
      removed: () => undefined,
    });
    monitor.start();
    const script = join(import.meta.dirname, '..', '..', 'resources', 'examples', 'publish_snapshot.py');
    const input = Array.from({ length: 40 }, (_, m) => `2024-03-01 10:${String(m).padStart(2, '0')}:00,${100 + m}`).join('\n');
    const run = spawnSync('python3', [script, '--data-dir', tmp.dir, '--variant', 'py-grid'], { input, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const entry = await waitFor('py-grid snapshot', () => seen.get('py-grid'), 5_000);
    expect(invalid).toEqual([]);
    const bars = entry.snapshot.instruments[0]?.bars ?? [];
    // 10:00–10:39 make three 15-minute windows: 10:00, 10:15, 10:30.
    expect(bars.map((b) => b.time)).toEqual([1709287200, 1709288100, 1709289000]);
    expect(bars[1]).toMatchObject({ open: 115, high: 129, low: 115, close: 129 });
  });

  it('keeps the last good snapshot when a file is corrupt, and says which file and field', async () => {
    const tmp = freshDir('corrupt');
    cleanup = tmp.remove;
    const seen = new Map<string, MonitoredSnapshot>();
    const invalid: string[] = [];
    monitor = new SnapshotMonitor(join(tmp.dir, 'monitor'), { updated: (v, e) => seen.set(v, e), invalid: (_v, _f, err) => invalid.push(err), removed: () => undefined }, 50);
    monitor.start();
    const file = join(tmp.dir, 'monitor', 'snapshot_x.json');
    const good = { version: 1, variant: 'x', strategy: 's', status: 'running', source: 'external', updatedAt: new Date().toISOString(), instruments: [] };
    writeFileSync(file, JSON.stringify(good));
    await waitFor('good snapshot', () => seen.get('x'));
    writeFileSync(file, JSON.stringify({ ...good, status: 'flying' }));
    await waitFor('invalid reported', () => invalid.length > 0);
    expect(invalid[0]).toContain(file);
    expect(invalid[0]).toContain('field "status"');
    writeFileSync(file, '{"version": 1, "varia');
    await waitFor('truncated reported', () => invalid.length > 1);
    expect(invalid[1]).toMatch(/not valid JSON/);
    expect(monitor.get('x')?.snapshot.status).toBe('running');
  });
});

const ctx = { origin: 'cli' as const, controlAllowed: false };
const externalHarness = harnessPerTest('external-ws');
const external = (): ReturnType<typeof externalHarness> =>
  externalHarness({ controlEnabled: false, settings: { demo: { enabled: false, speed: 60, seed: 1 }, variants: [] } });

/** Writes a valid snapshot for `variant` as an outside process would, and waits until the workstation lists it. */
async function publish(harness: Harness & { dataDir: string }, variant: string): Promise<string> {
  const file = join(harness.dataDir, 'monitor', `snapshot_${variant}.json`);
  const good = { version: 1, variant, strategy: 'grid', status: 'running', source: 'external', updatedAt: new Date().toISOString(), instruments: [] };
  writeFileSync(file, JSON.stringify(good));
  await waitFor('listed', async () => (await harness.workstation.handlers.listVariants({}, ctx)).some((v) => v.variant === variant));
  return file;
}

describe('a corrupt snapshot in the running workstation', () => {
  it('raises a WARNING naming the file and field, and keeps serving the last good snapshot', async () => {
    const harness = await external();
    const file = await publish(harness, 'ext');
    writeFileSync(file, '{"version": 1, "variant": "ext", "status": "runn');
    const alert = await waitFor('alert', () => harness.alerts.find((a) => a.title === 'Invalid snapshot ignored'));
    expect(alert.level).toBe('WARNING');
    expect(alert.message).toContain(file);
    expect(alert.message).toMatch(/not valid JSON/);
    const snap = await harness.workstation.handlers.getSnapshot({ variant: 'ext' }, ctx);
    expect(snap.status).toBe('running');
    expect(snap.strategy).toBe('grid');
    // The main process keeps its own log, where every alert is written.
    const mainLog = readFileSync(join(harness.dataDir, 'logs', 'kestrel', 'main.log'), 'utf8');
    expect(mainLog).toMatch(/"level":"WARNING","variant":"ext","message":"alert: Invalid snapshot ignored/);
  });
});

describe('an external publisher that goes away', () => {
  it('emits variantRemoved when its snapshot file is deleted, and the variant leaves the list', async () => {
    const harness = await external();
    const removed: string[] = [];
    const off = harness.workstation.bus.on('variantRemoved', ({ variant }) => removed.push(variant));
    const file = await publish(harness, 'py-gone');
    rmSync(file);
    await waitFor('variantRemoved emitted', () => removed.includes('py-gone'));
    expect(removed).toEqual(['py-gone']);
    expect((await harness.workstation.handlers.listVariants({}, ctx)).map((v) => v.variant)).not.toContain('py-gone');
    await expect(harness.workstation.handlers.getSnapshot({ variant: 'py-gone' }, ctx)).rejects.toMatchObject({ status: 404 });
    off();
  });
});
