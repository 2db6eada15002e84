/**
 * The 24/7 crypto demo (settings `demo.crypto`): a simulated market on exchange SIMC beside the
 * futures demo, three grid variants in one allocation group created for them, their snapshots
 * labelled simulated, and buys granted by main's authority once every grid has reported.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSnapshotFile } from '../../src/io/snapshotFile.js';
import type { AllocationEvent } from '../../src/main/workstation/allocation/allocationAuthority.js';
import { snapshotFileName } from '../../src/shared/snapshot.js';
import { waitFor } from '../helpers.js';
import { harnessPerTest } from './workstationHarness.js';

const GRIDS = ['grid-btc', 'grid-eth', 'grid-sol'];
const startDemo = harnessPerTest('crypto-demo');

describe('the crypto demo', () => {
  it('runs three simulated grids in one allocation group, which grants their buys', async () => {
    const harness = await startDemo({ controlEnabled: false, settings: { demo: { enabled: true, speed: 600, seed: 7, crypto: true } } });
    const ws = harness.workstation;
    const decisions: AllocationEvent[] = [];
    ws.allocation.onDecision((_g, e) => decisions.push(e));
    expect(ws.allocation.status().group).toBe('crypto-demo');
    expect(ws.allocation.status().symbols.map((s) => s.symbol)).toEqual(['BTCUSDT.SIMC', 'ETHUSDT.SIMC', 'SOLUSDT.SIMC']);

    await waitFor('every grid running', () => GRIDS.every((v) => ws.summaryOf(v).status === 'running'), 180_000, 200);
    await waitFor('buys granted to every pair', () => ws.allocation.status().symbols.every((s) => s.usedAmount > 0), 120_000, 200);
    // No grant before all three grids had reported.
    const firstGrant = decisions.findIndex((e) => e.kind === 'grant');
    const reporters = new Set(decisions.slice(0, firstGrant).filter((e) => e.kind === 'report').map((e) => e.worker));
    expect([...reporters].sort()).toEqual(GRIDS);
    for (const v of GRIDS) {
      const read = readSnapshotFile(join(harness.dataDir, 'monitor', snapshotFileName(v)));
      if (!read.ok) throw new Error(read.error);
      expect(read.snapshot.source).toBe('simulated');
      expect(read.snapshot.strategy).toBe('grid');
      expect(read.snapshot.display?.priceLines).toHaveLength(13);
    }
    // The futures demo still runs beside it.
    expect(ws.summaryOf('demo-15m').status).toBe('running');
  }, 400_000);
});
