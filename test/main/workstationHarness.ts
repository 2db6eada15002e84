import { afterEach } from 'vitest';
import type { z } from 'zod';
import { freshDir } from '../helpers.js';
import { settingsSchema, type Settings } from '../../src/shared/config.js';
import { KESTREL_VERSION } from '../../src/shared/version.js';
import { ApiServer, type ApiServerOptions } from '../../src/main/node/apiServer.js';
import { NodeHost } from '../../src/main/node/nodeHost.js';
import { openSettingsFile } from '../../src/main/workstation/settingsFile.js';
import { Workstation } from '../../src/main/workstation/workstation.js';
import type { Alert } from '../../src/shared/api.js';

export interface Harness {
  workstation: Workstation;
  server: ApiServer;
  host: NodeHost;
  baseUrl: string;
  token: string;
  alerts: Alert[];
  stop(): Promise<void>;
}

/**
 * The real headless stack in-process: Workstation + NodeHost (real worker processes run
 * from source through tsx) + ApiServer on a free port.
 */
export async function startHarness(opts: {
  dataDir: string;
  controlEnabled: boolean;
  settings?: z.input<typeof settingsSchema>;
  /** Settings changed after the schema read them, as code or a hand edit could get past it. */
  pastSchema?: (settings: Settings) => Settings;
  token?: string;
  /** ApiServer options a test sets itself (a small client buffer, a log to read). */
  server?: Partial<Pick<ApiServerOptions, 'maxClientBufferBytes' | 'log' | 'allowedHosts' | 'rendererDir'>>;
}): Promise<Harness> {
  const alerts: Alert[] = [];
  const host = new NodeHost(undefined, (a) => alerts.push(a));
  const parsed = settingsSchema.parse({ ...opts.settings });
  const settings = opts.pastSchema ? opts.pastSchema(parsed) : parsed;
  // The settings file says what the workstation runs with, as `kestrel serve` would have read it.
  const settingsStore = openSettingsFile(opts.dataDir);
  settingsStore.write(settings);
  const workstation = new Workstation({
    settingsStore,
    host,
    dataDir: opts.dataDir,
    settings,
    controlEnabled: opts.controlEnabled,
    version: KESTREL_VERSION,
  });
  await workstation.start();
  const token = opts.token ?? 'test-token-123';
  const server = new ApiServer({
    handlers: workstation.handlers,
    streams: workstation.streams,
    bus: workstation.bus,
    token,
    controlEnabled: opts.controlEnabled,
    rendererDir: null,
    port: 0,
    refuseCommand: (name, pathParams, ctx) => workstation.refuseUnread(name, pathParams, ctx),
    ...opts.server,
  });
  const { port } = await server.listen();
  return {
    workstation,
    server,
    host,
    baseUrl: `http://127.0.0.1:${port}`,
    token,
    alerts,
    async stop() {
      await server.close();
      await workstation.stop();
      host.killAll();
    },
  };
}

/**
 * For a describe block: `start()` runs a harness on a fresh data directory; after each test it is
 * stopped and the directory removed.
 */
export function harnessPerTest(prefix: string): (opts: Omit<Parameters<typeof startHarness>[0], 'dataDir'>) => Promise<Harness & { dataDir: string }> {
  let running: Harness | null = null;
  let remove: (() => void) | null = null;
  afterEach(async () => {
    await running?.stop();
    running = null;
    remove?.();
    remove = null;
  });
  return async (opts) => {
    const tmp = freshDir(prefix);
    remove = tmp.remove;
    running = await startHarness({ ...opts, dataDir: tmp.dir });
    return { ...running, dataDir: tmp.dir };
  };
}
