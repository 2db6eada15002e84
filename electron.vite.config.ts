import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

/**
 * Three environments, as in ARCHITECTURE.md:
 * - main: the Electron entry, the headless CLI (`kestrel serve|import|…`), the strategy
 *   worker entry and the log scan thread, all plain Node ESM sharing chunks; npm dependencies stay external.
 * - preload: one CommonJS file, because a sandboxed preload cannot load ES modules.
 * - renderer: the React UI, served by Electron from file:// or by the headless host over HTTP.
 */
export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      externalizeDeps: true,
      rollupOptions: {
        input: {
          index: resolve('src/main/electron/main.ts'),
          cli: resolve('src/main/cli/main.ts'),
          worker: resolve('src/worker/main.ts'),
          // Log search threads (src/io/logs/scanThreads.ts looks for it beside the bundle).
          logScan: resolve('src/io/logs/scanThread.ts'),
          jobRunner: resolve('src/worker/backtest/jobRunnerMain.ts'),
          backtestThread: resolve('src/worker/backtest/jobThread.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts') },
        external: ['electron'],
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve('src/renderer'),
    plugins: [react()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: { input: { index: resolve('src/renderer/index.html') } },
    },
  },
});
