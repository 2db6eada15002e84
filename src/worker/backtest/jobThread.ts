/**
 * A job-pool thread: runs one backtest at a time over bars shared by the pool. Progress goes out
 * at most every `progressEveryMs`; the control word is read at each checkpoint (every 4096 bars,
 * a few milliseconds), where a pause blocks the thread on Atomics.wait until resumed or cancelled.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { runBacktest } from '../../core/backtest/runBacktest.js';
import { columnsOf } from '../../io/backtest/barCache.js';
import { CONTROL_CANCEL, CONTROL_PAUSE, type FromThread, type RunJobMessage } from '../../io/backtest/threadProtocol.js';

const port = parentPort;
if (port === null) throw new Error('jobThread runs as a worker thread');

function post(message: FromThread): void {
  port?.postMessage(message);
}

port.on('message', (m: RunJobMessage) => {
  if (m.type !== 'run') return;
  const control = new Int32Array(m.control);
  const started = performance.now();
  let activeMs = 0;
  let since = started;
  let lastPost = -Infinity;
  try {
    const run = runBacktest(
      m.job,
      m.bars.map(columnsOf),
      {
        checkpoint: (at) => {
          const now = performance.now();
          activeMs += now - since;
          since = now;
          const final = at.barsDone === at.barsTotal;
          // A pause is always reported: it says where the bar count stands still.
          const paused = Atomics.load(control, 0) === CONTROL_PAUSE;
          if (final || paused || now - lastPost >= m.progressEveryMs) {
            lastPost = now;
            post({ type: 'progress', id: m.id, ...at, paused, barsPerSecond: activeMs > 0 ? (at.barsDone * 1000) / activeMs : 0 });
          }
          while (Atomics.load(control, 0) === CONTROL_PAUSE) Atomics.wait(control, 0, CONTROL_PAUSE, 1000);
          // Time spent paused is not time spent computing: bars/s counts only the latter.
          since = performance.now();
          return Atomics.load(control, 0) !== CONTROL_CANCEL;
        },
      },
    );
    post({ type: 'done', id: m.id, run, durationMs: performance.now() - started });
  } catch (err) {
    post({ type: 'failed', id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
});
