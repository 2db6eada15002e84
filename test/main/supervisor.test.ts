import { afterEach, describe, expect, it } from 'vitest';
import type { VariantUpdate } from '../../src/shared/api.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';

let harness: Harness | null = null;
let cleanup: (() => void) | null = null;

afterEach(async () => {
  await harness?.stop();
  harness = null;
  cleanup?.();
});

describe('supervisor with real worker processes', () => {
  it('restarts a worker killed with SIGKILL within seconds, and says so', async () => {
    const tmp = freshDir('sup');
    cleanup = tmp.remove;
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: { demo: { enabled: true, speed: 600, seed: 7 }, supervisor: { backoffInitialMs: 200, backoffMaxMs: 2_000, maxCrashes: 5, crashWindowMs: 60_000 } },
    });
    const ws = harness.workstation;
    const updates: VariantUpdate[] = [];
    ws.bus.on('variantUpdated', (u) => updates.push(u));

    const first = await waitFor('demo-15m running', () => {
      const s = ws.summaryOf('demo-15m');
      return s.status === 'running' && s.pid !== null ? s : undefined;
    }, 30_000);
    const oldPid = first.pid as number;
    process.kill(oldPid, 'SIGKILL');

    const restarted = await waitFor('demo-15m restarted with a new pid', () => {
      const s = ws.summaryOf('demo-15m');
      return s.status === 'running' && s.pid !== null && s.pid !== oldPid ? s : undefined;
    }, 20_000);
    expect(restarted.restarts).toBe(1);
    // The old process is really gone.
    expect(() => process.kill(oldPid, 0)).toThrow();
    // Clients were told: an update carried the restart count, and a warning was raised.
    expect(updates.some((u) => u.summary.variant === 'demo-15m' && u.summary.restarts === 1)).toBe(true);
    expect(harness.alerts.some((a) => a.variant === 'demo-15m' && a.level === 'WARNING' && /SIGKILL/.test(a.message))).toBe(true);
    // The other variants were untouched.
    expect(ws.summaryOf('demo-30m').restarts).toBe(0);
  });

  it('marks a variant that keeps crashing as crashed, alerts, and stops restarting it', async () => {
    const tmp = freshDir('crashloop');
    cleanup = tmp.remove;
    harness = await startHarness({
      dataDir: tmp.dir,
      controlEnabled: false,
      settings: {
        demo: { enabled: true, speed: 60, seed: 1 },
        variants: [{ name: 'fragile', vtSymbol: 'rb9999.SIM', windowMinutes: 15 }],
        supervisor: { backoffInitialMs: 50, backoffMaxMs: 400, maxCrashes: 3, crashWindowMs: 60_000 },
      },
    });
    const ws = harness.workstation;
    // Whatever kills it, a worker that dies three times within the window is given up on.
    const killed: number[] = [];
    for (let i = 0; i < 3; i++) {
      const pid = await waitFor(`worker #${i + 1} up`, () => {
        const p = ws.supervisorInfo('fragile')?.pid;
        return p && !killed.includes(p) ? p : undefined;
      }, 30_000);
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    }
    await waitFor('fragile marked crashed', () => ws.summaryOf('fragile').status === 'crashed', 30_000);
    const info = ws.supervisorInfo('fragile');
    expect(info?.restarts).toBe(2);
    expect(info?.pid).toBeNull();
    const critical = harness.alerts.filter((a) => a.level === 'CRITICAL' && a.variant === 'fragile');
    expect(critical).toHaveLength(1);
    // Given time, it is not started again.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(ws.supervisorInfo('fragile')?.restarts).toBe(2);
    expect(ws.summaryOf('fragile').status).toBe('crashed');
  });
});
