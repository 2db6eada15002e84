import { fromWorkerSchema, toWorkerSchema, type FromWorker, type ToWorker } from '../shared/workerProtocol.js';

/**
 * The one difference between the two hosts, seen from a worker: an Electron utility process
 * talks through `process.parentPort`, a Node child process through `process.send`.
 */
export interface ParentChannel {
  send(message: FromWorker): void;
  onMessage(listener: (message: ToWorker) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

export function parentChannel(): ParentChannel {
  const port = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  const deliver = (listener: (m: ToWorker) => void, raw: unknown): void => {
    const parsed = toWorkerSchema.safeParse(raw);
    if (parsed.success) listener(parsed.data);
  };
  if (port) {
    return {
      send: (m) => port.postMessage(fromWorkerSchema.parse(m)),
      onMessage: (l) => port.on('message', (e) => deliver(l, e.data)),
    };
  }
  if (process.send) {
    return {
      send: (m) => {
        // A parent that already went away must not take the worker down with an EPIPE.
        if (process.connected) process.send?.(fromWorkerSchema.parse(m));
      },
      onMessage: (l) => process.on('message', (raw) => deliver(l, raw)),
    };
  }
  return { send: () => undefined, onMessage: () => undefined };
}
