#!/usr/bin/env node
// `npm test`: everything CI runs except installing OS packages — build, type-check, lint,
// Vitest, Playwright — then one closing line `N passed, N failed` summing every suite.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });

let passed = 0;
let failed = 0;
let skipped = 0;

function step(name, cmd, args) {
  process.stdout.write(`\n=== ${name}: ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, FORCE_COLOR: '0' } });
  return r.status === 0;
}

// Build, type-check and lint count as one check each: a broken build is a failure CI must show.
for (const [name, cmd, args] of [
  ['build', bin('electron-vite'), ['build', '--logLevel', 'warn']],
  ['typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']],
  ['lint', bin('eslint'), ['.', '--max-warnings', '0']],
]) {
  if (step(name, cmd, args)) passed++;
  else failed++;
}

const vitestJson = join(results, 'vitest.json');
rmSync(vitestJson, { force: true });
step('vitest', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile=${vitestJson}`]);
if (existsSync(vitestJson)) {
  const v = JSON.parse(readFileSync(vitestJson, 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests + (v.numRuntimeErrors ?? 0);
  skipped += v.numPendingTests + (v.numTodoTests ?? 0);
  // A suite that failed to load has no tests to count: count the file.
  for (const file of v.testResults ?? []) if (file.status === 'failed' && (file.assertionResults ?? []).length === 0) failed++;
} else {
  failed++;
}

const e2eJson = join(results, 'e2e.json');
rmSync(e2eJson, { force: true });
step('playwright', bin('playwright'), ['test']);
if (existsSync(e2eJson)) {
  const s = JSON.parse(readFileSync(e2eJson, 'utf8')).stats;
  passed += s.expected + (s.flaky ?? 0);
  failed += s.unexpected;
  skipped += s.skipped;
} else {
  failed++;
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
