// Lint enforces the layers of ARCHITECTURE.md: who may import whom is checked here, not
// left to goodwill (after Signal Desktop's import-direction rules and VS Code's layering),
// as an allowlist per layer (lint/layers.js).
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import { layersRule } from './lint/layers.js';

const noElectron = { name: 'electron', message: 'only src/main/electron and src/preload may import electron' };

// What each layer may import besides itself: an allowlist, everything else refused
// (ARCHITECTURE.md "Layers"). Packages are npm names; `node` allows Node's built-ins.
const layers = {
  shared: { layers: [], packages: ['zod'], node: false, why: 'src/shared holds wire formats only.' },
  core: { layers: ['shared'], packages: [], node: false, why: 'src/core is pure trading logic: no I/O, deterministic.' },
  io: {
    layers: ['core', 'shared'],
    // esbuild: only when running from source, to bundle a worker thread's entry once (tsx cannot reach threads on Node 20).
    packages: ['better-sqlite3', 'mysql2', 'zod', 'apache-arrow', 'esbuild', 'bullmq', 'ioredis'],
    node: true,
    why: 'src/io is shared by workers and main; it depends on neither.',
  },
  worker: { layers: ['io', 'core', 'shared'], packages: ['zod', 'prom-client'], node: true, why: 'A worker depends on core, shared and io only.' },
  'main/workstation': {
    layers: ['io', 'core', 'shared'],
    packages: ['prom-client', 'nodemailer', 'bullmq', 'zod'],
    node: true,
    why: 'The workstation runs under either host: it never reaches a host, Electron or the CLI.',
  },
  'main/node': { layers: ['main/workstation', 'io', 'core', 'shared'], packages: ['ws', 'zod'], node: true, why: 'The headless host wraps the workstation.' },
  'main/electron': {
    layers: ['main/workstation', 'main/desktopPolicy', 'io', 'core', 'shared'],
    packages: ['electron', 'zod'],
    node: true,
    why: 'The desktop host wraps the workstation; its decisions live in src/main/desktopPolicy.',
  },
  'main/desktopPolicy': { layers: ['shared'], packages: [], node: false, why: 'The desktop policy is pure decisions, testable without Electron.' },
  'main/cli': {
    layers: ['main/node', 'main/workstation', 'io', 'core', 'shared'],
    packages: ['cli-progress', 'prom-client', 'zod'],
    node: true,
    why: 'The CLI starts the headless host or works on the stores.',
  },
  preload: { layers: ['shared'], packages: ['electron'], node: false, why: 'The preload exposes the contract and nothing else.' },
  renderer: {
    layers: ['shared'],
    packages: ['react', 'react-dom', 'zustand', 'lightweight-charts'],
    node: false,
    why: 'The renderer talks to the workstation only through the API contract (src/shared/api.ts).',
  },
};

function restrict(patterns, paths = []) {
  return { 'no-restricted-imports': ['error', { paths, patterns }] };
}

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench/.data/**', 'resources/examples/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    plugins: { kestrel: { rules: { layers: layersRule } } },
    rules: { 'kestrel/layers': ['error', { root: 'src', layers }] },
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: reactHooks.configs.recommended.rules,
  },
  {
    // Code that tests load must never pull Electron in (the binary may be absent).
    files: ['test/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{js,ts}'],
    rules: restrict([], [noElectron]),
  },
);
