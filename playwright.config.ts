import { existsSync } from 'node:fs';
import { defineConfig } from '@playwright/test';

/**
 * The system Chromium (Debian's package on CI and this project's machines); elsewhere
 * KESTREL_CHROMIUM names one, or Playwright's own browser is used if installed.
 */
const chromium = process.env.KESTREL_CHROMIUM ?? (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);

/**
 * End-to-end tests: the real headless host (`node bin/kestrel.js serve`, see e2e/host.ts)
 * and the built renderer in the system Chromium. One worker: each host runs its own
 * supervisor, demo market and worker processes on a two-core machine.
 */
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    viewport: { width: 1440, height: 900 },
    screenshot: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      ...(chromium ? { executablePath: chromium } : {}),
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
