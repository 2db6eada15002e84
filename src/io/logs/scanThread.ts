/**
 * A scan thread's entry (worker_threads): takes one range job at a time from the pool in
 * scanThreads.ts and answers with its hits, batch by batch, then a summary. The scan itself is
 * synchronous here, which is the point: it blocks this thread, never the main one, and the pool
 * can end it at any moment by terminating the thread.
 */
import { parentPort } from 'node:worker_threads';
import { ApiError } from '../../shared/contractKit.js';
import { scanRange } from './rangeScan.js';
import { CONTROL_ALLOWED, CONTROL_STOP, type ScanThreadMessage, type ScanThreadRequest } from './scanThreads.js';

const port = parentPort;
if (!port) throw new Error('scanThread.ts runs as a worker thread');

port.on('message', (req: ScanThreadRequest) => {
  const control = new Int32Array(req.control);
  const post = (m: ScanThreadMessage): void => port.postMessage(m);
  let sent = 0;
  try {
    const result = scanRange(req.job, {
      found(hits, scannedTo, linesTo) {
        sent += hits.length;
        post({ type: 'found', hits, scannedTo, linesTo });
        // Ahead of the range being shown: wait until the reader wants more (or says stop).
        for (;;) {
          const allowed = Atomics.load(control, CONTROL_ALLOWED);
          if (Atomics.load(control, CONTROL_STOP) !== 0 || sent < allowed) break;
          Atomics.wait(control, CONTROL_ALLOWED, allowed, 1000);
        }
      },
      stopped: () => Atomics.load(control, CONTROL_STOP) !== 0,
    });
    post({ type: 'done', result });
  } catch (err) {
    post({ type: 'failed', message: err instanceof Error ? err.message : String(err), status: err instanceof ApiError ? err.status : null });
  }
});
