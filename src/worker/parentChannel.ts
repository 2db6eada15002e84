import type { z } from 'zod';
import { fromWorkerSchema, toWorkerSchema, type FromWorker, type ToWorker } from '../shared/workerProtocol.js';

/**
 * The one difference between the two hosts, seen from a worker: an Electron utility process
 * talks through `process.parentPort`, a Node child process through `process.send`.
 */
export interface ParentChannel<In = ToWorker, Out = FromWorker> {
  send(message: Out): void;
  onMessage(listener: (message: In) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (e: { data: unknown }) => void): void;
}

/** The strategy worker's channel. */
export function parentChannel(): ParentChannel {
  return parentChannelOf(toWorkerSchema, fromWorkerSchema);
}

/** A channel to the parent for any child entry (worker, job runner), messages checked both ways. */
export function parentChannelOf<In, Out>(inSchema: z.ZodType<In>, outSchema: z.ZodType<Out>): ParentChannel<In, Out> {
  const port = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  const deliver = (listener: (m: In) => void, raw: unknown): void => {
    const parsed = inSchema.safeParse(raw);
    if (parsed.success) listener(parsed.data);
  };
  if (port) {
    return {
      send: (m) => port.postMessage(outSchema.parse(m)),
      onMessage: (l) => port.on('message', (e) => deliver(l, e.data)),
    };
  }
  if (process.send) {
    return {
      send: (m) => {
        // A parent that already went away must not take the worker down with an EPIPE.
        if (process.connected) process.send?.(outSchema.parse(m));
      },
      onMessage: (l) => process.on('message', (raw) => deliver(l, raw)),
    };
  }
  return { send: () => undefined, onMessage: () => undefined };
}
