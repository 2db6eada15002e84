import { utilityProcess, Notification, type UtilityProcess } from 'electron';
import { WORKER_LAUNCH_ENV, fromWorkerSchema, type WorkerLaunch } from '../../shared/workerProtocol.js';
import type { Alert } from '../../shared/api.js';
import type { Host, WorkerHandle } from '../workstation/host.js';

/** The desktop host: workers are Electron utility processes; alerts become notifications. */
export class ElectronHost implements Host {
  readonly kind = 'electron' as const;
  private readonly children = new Set<UtilityProcess>();

  constructor(
    private readonly workerEntry: string,
    private readonly onAlert: (alert: Alert) => void,
  ) {}

  forkWorker(launch: WorkerLaunch): WorkerHandle {
    const child = utilityProcess.fork(this.workerEntry, [], {
      serviceName: `kestrel-${launch.variant.name}`,
      env: { ...process.env, [WORKER_LAUNCH_ENV]: JSON.stringify(launch) },
      stdio: 'inherit',
    });
    this.children.add(child);
    let exited = false;
    const exitListeners: ((code: number | null, signal: string | null) => void)[] = [];
    child.once('exit', (code) => {
      exited = true;
      this.children.delete(child);
      for (const l of exitListeners) l(code, null);
    });
    return {
      get pid() {
        return child.pid ?? null;
      },
      send: (m) => {
        if (!exited) child.postMessage(m);
      },
      kill: () => {
        child.kill();
      },
      onMessage: (listener) =>
        child.on('message', (raw: unknown) => {
          const parsed = fromWorkerSchema.safeParse(raw);
          if (parsed.success) listener(parsed.data);
        }),
      onExit: (listener) => exitListeners.push(listener),
    };
  }

  notify(alert: Alert): void {
    if (Notification.isSupported()) {
      new Notification({ title: `Kestrel ${alert.level}: ${alert.title}`, body: alert.message }).show();
    }
    this.onAlert(alert);
  }

  killAll(): void {
    for (const child of this.children) child.kill();
  }
}
