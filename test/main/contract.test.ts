import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ApiError,
  contract,
  entryNames,
  eventNames,
  ipcChannel,
  streamNames,
  streams,
  type KestrelApi,
  type StreamName,
  type StreamParamsOf,
} from '../../src/shared/api.js';
import { SNAPSHOT_VERSION, type SnapshotInput } from '../../src/shared/snapshot.js';
import { writeSnapshotAtomic } from '../../src/io/snapshotFile.js';
import { compileRoutes } from '../../src/main/node/apiServer.js';
import { registerIpcHandlers, registerIpcStreams } from '../../src/main/electron/ipcBridge.js';
import { buildBridge } from '../../src/preload/bridge.js';
import { ipcPair } from './ipcPair.js';
import { createHttpApi } from '../../src/renderer/api/httpApi.js';
import { formatDatetime, nowInZone } from '../../src/shared/time.js';
import { dashboardStatusSchema, quickStatsSchema } from '../../src/shared/contract/dashboard.js';
import { freshDir, waitFor } from '../helpers.js';
import { startHarness, type Harness } from './workstationHarness.js';
import { join } from 'node:path';

function externalSnapshot(variant: string): SnapshotInput {
  return {
    version: SNAPSHOT_VERSION,
    variant,
    strategy: 'python-grid',
    status: 'running',
    source: 'external',
    pid: null,
    updatedAt: new Date().toISOString(),
    instruments: [
      {
        vtSymbol: 'BTCUSDT.BINANCE',
        windowMinutes: 15,
        bars: [{ time: 1_700_000_100, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }],
      },
    ],
  };
}

let harness: Harness;
let cleanup: () => void;

beforeAll(async () => {
  const tmp = freshDir('contract');
  cleanup = tmp.remove;
  writeSnapshotAtomic(join(tmp.dir, 'monitor'), externalSnapshot('ext-grid'));
  harness = await startHarness({
    dataDir: tmp.dir,
    controlEnabled: true,
    settings: {
      demo: { enabled: true, speed: 60, seed: 3 },
      variants: [{ name: 'demo-15m', strategy: 'macd-td', vtSymbol: 'rb9999.SIM', windowMinutes: 15, pollMs: 250, enabled: true }],
      allocation: {
        groups: [
          { name: 'spot', totalFunds: 10_000, globalMaxUsage: 0.8, strategy: 'WEIGHTED', symbols: [{ symbol: 'BTCUSDT.SIM', weight: 2 }, { symbol: 'ETHUSDT.SIM' }] },
          { name: 'alts', totalFunds: 500, symbols: [{ symbol: 'SOLUSDT.SIM' }] },
        ],
      },
    },
  });
  await waitFor('demo-15m snapshot', () => harness.workstation.summaryOf('demo-15m').status === 'running', 30_000);
});

afterAll(async () => {
  await harness.stop();
  cleanup();
});

/** One representative call per entry; the same calls go through both hosts' adapters. */
const sampleParams: { [K in keyof typeof contract]: Parameters<KestrelApi[K]>[0] } = {
  listVariants: {},
  getSnapshot: { variant: 'ext-grid' },
  getStatus: {},
  listAlerts: {},
  startVariant: { variant: 'demo-15m' },
  stopVariant: { variant: 'nonexistent' },
  restartVariant: { variant: 'nonexistent' },
  acknowledgeAlert: { id: 'no-such-alert' },
  setTradingHalted: { variant: 'nonexistent', halted: true },
  flattenVariant: { variant: 'nonexistent' },
  listLogFiles: {},
  listLogLines: { file: 'demo-15m/strategy.log', pageSize: 5 },
  listTrades: { side: 'buy', pageSize: 5 },
  listTradeSymbols: {},
  tradeStatistics: { period: 'week', to: '2099-12-31' },
  // Ten days back: inside the demo's backfill, so both adapters see the same closed bars.
  getBarHistory: { vtSymbol: 'rb9999.SIM', windowMinutes: 15, before: Math.floor(Date.now() / 1000) - 10 * 86_400, count: 5 },
  barOverview: {},
  // A closed stretch of the backfill (the demo's clock is China time), so both adapters scan the same bars.
  barGaps: { vtSymbol: 'rb9999.SIM', from: formatDatetime(nowInZone(8) - 12 * 86_400), to: formatDatetime(nowInZone(8) - 9 * 86_400) },
  // A bad row: a 400 naming line and field on both adapters, and nothing stored.
  importBars: { fileName: 'bad.csv', content: 'datetime,open,high,low,close\n2024-01-02 09:00:00,1,x,1,1\n', format: 'csv', symbol: 'bad', exchange: 'SIM' },
  getSettings: {},
  updateSettings: { settings: { demo: { speed: -1 } } },
  testBarSource: { barSource: { kind: 'sqlite', path: null } },
  // Backtests: answers that cannot differ between two calls (no job is left running).
  listBacktestStrategies: {},
  getBacktestQueue: {},
  listBacktests: {},
  getBacktest: { id: 'no-such-run' },
  exportBacktest: { id: 'no-such-run', what: 'trades' },
  getBacktestBars: { id: 'no-such-run', vtSymbol: 'rb9999.SIM' },
  startBacktest: { strategy: 'turtle', symbols: ['rb9999.SIM'], from: '2025-01-01', to: '2025-01-31', windowMinutes: 15 },
  pauseBacktest: { id: 'no-such-run' },
  resumeBacktest: { id: 'no-such-run' },
  cancelBacktest: { id: 'no-such-run' },
  rerunBacktest: { id: 'no-such-run' },
  setBacktestQueuePaused: { paused: false },
  startSweep: { job: { strategy: 'macd-td', symbols: ['rb9999.SIM'], from: '2025-01-01', to: '2025-01-31', windowMinutes: 15 }, parameters: { 'signal.fast': { values: [0] } } },
  getSweep: { id: 'no-such-sweep' },
  getDashboardStatus: {},
  getQuickStats: {},
  getMetrics: {},
  listAllocationGroups: {},
  getAllocation: { group: 'spot' },
  getAllocationHistory: {},
};

/** One call per stream; `take` items, then cancel (a tail never ends by itself). */
const sampleStreams: { [S in StreamName]: { params: StreamParamsOf<S>; take: number; keep?: (item: unknown) => boolean } } = {
  tailLog: { params: { file: 'demo-15m/strategy.log', last: 2 }, take: 2 },
  // Progress items depend on timing; the hits do not.
  searchLog: { params: { file: 'demo-15m/strategy.log', pattern: 'worker started' }, take: 1, keep: (i) => (i as { type: string }).type === 'hit' },
};

function collect(api: KestrelApi, name: StreamName, take: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const items: unknown[] = [];
    const keep = sampleStreams[name].keep ?? (() => true);
    const start = api.streams[name] as (p: unknown, onItem: (i: unknown) => void, onEnd: (e: string | null) => void) => () => void;
    const cancel = start(
      sampleStreams[name].params,
      (item) => {
        if (items.length >= take || !keep(item)) return;
        items.push(item);
        if (items.length === take) {
          cancel();
          resolve(items);
        }
      },
      (error) => (error && error !== 'cancelled' ? reject(new Error(error)) : resolve(items)),
    );
  });
}

type Outcome = { ok: true; value: unknown } | { ok: false; status: number };
async function outcome(p: Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, status: (err as { status?: number }).status ?? -1 };
  }
}

/** Reads an SSE response until `done` says enough (or 20 s), then closes it. */
async function readSse(url: string, done: (events: { event: string; data: unknown }[]) => boolean): Promise<{ event: string; data: unknown }[]> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 20_000);
  const events: { event: string; data: unknown }[] = [];
  try {
    const res = await fetch(url, { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (event && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown });
      }
      if (done(events)) break;
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  return events;
}

/** The `# TYPE` lines of a Prometheus exposition: which families it has, of which type. */
function familiesOf(text: unknown): string[] {
  return String(text)
    .split('\n')
    .filter((l) => l.startsWith('# TYPE '))
    .sort();
}

/** Fields that legitimately move between two calls a moment apart. */
function stable(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (k, v: unknown) =>
      // count/end: the demo writes a minute a second, so the bar overview moves between two calls.
      // system: the machine's CPU, memory and uptime move between two calls.
      ['updatedAt', 'lastBarAt', 'simulatedTime', 'message', 'minuteBarsProcessed', 'time', 'status', 'count', 'end', 'system'].includes(k) ? '~' : v,
    ),
  );
}

describe('the API contract', () => {
  it('every entry has exactly one REST route and one IPC channel, derived from the contract', () => {
    const routes = compileRoutes();
    expect(routes.map((r) => r.name).sort()).toEqual([...entryNames].sort());
    const pair = ipcPair('file:///app/out/renderer/index.html');
    registerIpcHandlers(pair.main, harness.workstation.handlers, () => true);
    expect(pair.channels()).toEqual(entryNames.map(ipcChannel).sort());
    const bridge = buildBridge(pair.renderer);
    expect(Object.keys(bridge).filter((k) => k !== 'events' && k !== 'streams').sort()).toEqual([...entryNames].sort());
    expect(Object.keys(bridge.streams).sort()).toEqual([...streamNames].sort());
    const sse = new Set(compileRoutes().map((r) => contract[r.name].rest.path));
    for (const name of streamNames) expect(sse.has(streams[name].rest.path), name).toBe(false);
    expect(Object.keys(bridge.events).sort()).toEqual([...eventNames].sort());
  });

  it('every entry is served by both hosts’ adapters with the same answers', async () => {
    const pair = ipcPair('file:///app/out/renderer/index.html');
    registerIpcHandlers(pair.main, harness.workstation.handlers, () => true);
    const viaIpc = buildBridge(pair.renderer);
    const http = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      for (const name of entryNames) {
        const call = (api: KestrelApi): Promise<unknown> =>
          (api[name] as (p: unknown) => Promise<unknown>)(sampleParams[name]);
        const [rest, ipc] = [await outcome(call(http.api)), await outcome(call(viaIpc))];
        expect({ name, rest: rest.ok ? 'ok' : rest.status }).toEqual({ name, rest: ipc.ok ? 'ok' : ipc.status });
        if (rest.ok && ipc.ok) {
          expect(contract[name].result.safeParse(rest.value).success).toBe(true);
          // The exposition's values move between two scrapes; its families do not.
          if (name === 'getMetrics') expect(familiesOf(rest.value)).toEqual(familiesOf(ipc.value));
          else expect(stable(rest.value)).toEqual(stable(ipc.value));
        }
      }
      // The representative calls exercise success and error paths alike.
      expect((await outcome(http.api.getSnapshot({ variant: 'nope' }))).ok).toBe(false);
      const snap = await http.api.getSnapshot({ variant: 'ext-grid' });
      expect(snap.instruments[0]?.vtSymbol).toBe('BTCUSDT.BINANCE');

      registerIpcStreams(pair.main, harness.workstation.streams, () => true);
      for (const name of streamNames) {
        const [rest, ipc] = [await collect(http.api, name, sampleStreams[name].take), await collect(viaIpc, name, sampleStreams[name].take)];
        expect(rest.length, name).toBe(sampleStreams[name].take);
        expect(stable(rest)).toEqual(stable(ipc));
      }
    } finally {
      http.close();
    }
  });

  it('an external process that writes a valid snapshot appears as an external variant', async () => {
    const variants = await (await fetch(`${harness.baseUrl}/api/variants`, { headers: { authorization: `Bearer ${harness.token}` } })).json() as { variant: string; external: boolean; strategy: string }[];
    const ext = variants.find((v) => v.variant === 'ext-grid');
    expect(ext).toMatchObject({ external: true, strategy: 'python-grid' });
  });

  it('IPC refuses a call from a frame that is not our renderer', async () => {
    const pair = ipcPair('https://evil.example/');
    registerIpcHandlers(pair.main, harness.workstation.handlers, (url) => url.startsWith('file://'));
    const api = buildBridge(pair.renderer);
    const result = await outcome(api.listVariants({}));
    expect(result).toEqual({ ok: false, status: 403 });
  });

  it('invalid params are a 400 that names the field, on both adapters', async () => {
    const res = await fetch(`${harness.baseUrl}/api/variants/${encodeURIComponent('../etc')}/snapshot`, {
      headers: { authorization: `Bearer ${harness.token}` },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/getSnapshot: variant:/);
    const pair = ipcPair('file:///x/renderer/index.html');
    registerIpcHandlers(pair.main, harness.workstation.handlers, () => true);
    const reply = await pair.renderer.invoke(ipcChannel('getSnapshot'), { variant: 42 });
    expect(reply).toMatchObject({ ok: false, status: 400 });
  });

  it('answers the seed-002 REST surface: dashboard, quick stats, period names, SSE alias, log stream heartbeat, metrics behind the token', async () => {
    const get = (path: string, token: string | null = harness.token): Promise<Response> =>
      fetch(`${harness.baseUrl}${path}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });

    const status = dashboardStatusSchema.parse(await (await get('/api/dashboard/status')).json());
    const demo = status.symbols.find((s) => s.variant === 'demo-15m');
    expect(demo).toMatchObject({ vtSymbol: 'rb9999.SIM' });
    expect(status.symbols.find((s) => s.variant === 'ext-grid')).toMatchObject({ vtSymbol: 'BTCUSDT.BINANCE', balance: 0, lastTrade: null });
    expect(status.system.memory.totalBytes).toBeGreaterThan(status.system.memory.freeBytes);
    expect(status.system.processUptimeSeconds).toBeGreaterThan(0);
    // The totals are the sums of the snapshots they come from.
    const snapshots = await Promise.all(status.symbols.map((s) => harness.workstation.handlers.getSnapshot({ variant: s.variant }, { origin: 'rest', controlAllowed: true })));
    const positions = snapshots.flatMap((snap) => snap.positions);
    expect(status.activePositions).toBe(positions.filter((p) => p.volume !== 0).length);

    const quick = quickStatsSchema.parse(await (await get('/api/dashboard/quick-stats')).json());
    expect(quick.variants.total).toBe(2);
    expect(quick.openAlerts).toBe(harness.workstation.alerts.list().filter((a) => !a.acknowledged).length);

    // period=daily|weekly|monthly answer as day|week|month do.
    for (const [alias, name] of [['daily', 'day'], ['weekly', 'week'], ['monthly', 'month']] as const) {
      const aliased = (await (await get(`/api/trades/statistics?period=${alias}`)).json()) as { period: string };
      const named = (await (await get(`/api/trades/statistics?period=${name}`)).json()) as { period: string };
      expect(aliased.period).toBe(name);
      expect(stable(aliased)).toEqual(stable(named));
    }
    expect((await get('/api/trades/statistics?period=hourly')).status).toBe(400);

    // GET /api/metrics: the exposition behind the token, not JSON.
    expect((await get('/api/metrics', null)).status).toBe(401);
    const metrics = await get('/api/metrics');
    expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await metrics.text()).toMatch(/^kestrel_variant_up\{[^}]*variant="demo-15m"[^}]*\} [01]$/m);

    // The event stream's alias, with the token in the query as EventSource sends it.
    const sse = await readSse(`${harness.baseUrl}/api/sse/events?token=${harness.token}`, (events) => events.some((e) => e.event === 'variantUpdated'));
    expect(sse.find((e) => e.event === 'variantUpdated')?.data).toMatchObject({ summary: { variant: expect.any(String) } });
    expect((await get('/api/sse/events', null)).status).toBe(401);

    // The log stream: the workstation's own log when no file is named, a heartbeat first.
    const logs = await readSse(`${harness.baseUrl}/api/logs/stream?token=${harness.token}&last=1`, (events) => events.some((e) => e.event === 'item'));
    expect(logs[0]?.event).toBe('heartbeat');
    expect(logs[0]?.data).toMatchObject({ time: expect.any(String) });
    const line = logs.find((e) => e.event === 'item')?.data as { message: string } | undefined;
    expect(line?.message).toEqual(expect.any(String));
  });

  it('GET /api/allocation answers each group (the first by default), with its symbols; history and live updates follow', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${harness.baseUrl}${path}`, { headers: { authorization: `Bearer ${harness.token}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const first = await get('/api/allocation');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ group: 'spot', totalFunds: 10_000, globalMaxUsage: 0.8, strategy: 'WEIGHTED', globalUsed: 0, blockedTrades: 0, rebalances: 0 });
    const symbols = first.body.symbols as { symbol: string; allocatedAmount: number; weight: number }[];
    expect(symbols.map((x) => x.symbol)).toEqual(['BTCUSDT.SIM', 'ETHUSDT.SIM']);
    // 8000 × 2/3 is 5333, above the default cap of 0.5 × 10000.
    expect(symbols[0]?.allocatedAmount).toBeCloseTo(5_000, 6);
    expect((await get('/api/allocation?group=alts')).body).toMatchObject({ group: 'alts', totalFunds: 500 });
    expect((await get('/api/allocation?group=nope')).status).toBe(404);
    expect((await get('/api/allocation/groups')).body).toEqual(['spot', 'alts']);

    const http = createHttpApi({ baseUrl: harness.baseUrl, token: harness.token, WebSocketImpl: WebSocket as unknown as typeof globalThis.WebSocket });
    try {
      const updates: { group: string; globalUsed: number; blockedTrades: number }[] = [];
      http.api.events.allocationUpdated((u) => updates.push(u));
      const authority = harness.workstation.allocation.authority('spot');
      await waitFor('the WebSocket to be open', async () => (await outcome(http.api.getStatus({}))).ok);
      // The worker side of these calls is tested with real processes in test/main/allocationConcurrency.test.ts.
      await waitFor('an allocationUpdated event', () => {
        authority?.request('grid-a', 'BTCUSDT.SIM', 100);
        return updates.find((u) => u.group === 'spot' && u.globalUsed >= 100);
      });
      authority?.request('grid-a', 'ETHUSDT.SIM', 1e6);
      await waitFor('the denial to be counted', () => updates.find((u) => u.blockedTrades === 1));
      const history = await http.api.getAllocationHistory({ group: 'spot' });
      expect(history.usage.at(-1)?.globalUsed).toBeGreaterThanOrEqual(100);
    } finally {
      http.close();
    }
  });

  it('ApiError keeps its status for the UI', () => {
    expect(new ApiError(403, 'x').status).toBe(403);
  });
});
