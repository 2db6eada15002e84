// Lint enforces the layers of ARCHITECTURE.md: who may import whom is checked here, not
// left to goodwill (after Signal Desktop's import-direction rules and VS Code's layering).
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

const layer = (name) => [`**/${name}/*`, `**/${name}/**`, `**/${name}`];
const deny = (names, message) => ({ group: names.flatMap(layer), message });

const noNode = { paths: nodeBuiltins.map((name) => ({ name, message: 'this layer runs without Node: no Node built-ins' })) };
const noElectron = { name: 'electron', message: 'only src/main/electron and src/preload may import electron' };

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
    files: ['src/shared/**/*.ts'],
    rules: restrict(
      [deny(['core', 'io', 'worker', 'main', 'renderer', 'preload'], 'src/shared holds wire formats only: it imports nothing but itself and zod')],
      [...noNode.paths, noElectron, { name: 'react', message: 'no UI in src/shared' }],
    ),
  },
  {
    files: ['src/core/**/*.ts'],
    rules: restrict(
      [deny(['io', 'worker', 'main', 'renderer', 'preload'], 'src/core is pure trading logic: it imports only src/shared')],
      [...noNode.paths, noElectron, { name: 'better-sqlite3', message: 'no I/O in core' }, { name: 'mysql2', message: 'no I/O in core' }],
    ),
  },
  {
    files: ['src/io/**/*.ts'],
    rules: restrict([deny(['worker', 'main', 'renderer', 'preload'], 'src/io is shared by workers and main; it cannot depend on either')], [noElectron]),
  },
  {
    files: ['src/worker/**/*.ts'],
    rules: restrict([deny(['main', 'renderer', 'preload'], 'a worker depends on core, shared and io only')], [noElectron]),
  },
  {
    files: ['src/main/**/*.ts'],
    ignores: ['src/main/electron/**'],
    rules: restrict([deny(['worker', 'renderer', 'preload'], 'main reaches workers through processes, the renderer through the contract')], [noElectron]),
  },
  {
    files: ['src/main/electron/**/*.ts'],
    rules: restrict([deny(['worker', 'renderer', 'preload'], 'main reaches workers through processes, the renderer through the contract')]),
  },
  {
    files: ['src/preload/**/*.ts'],
    rules: restrict(
      [deny(['core', 'io', 'worker', 'main', 'renderer'], 'the preload exposes the contract and nothing else')],
      noNode.paths,
    ),
  },
  {
    files: ['src/renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      ...restrict(
        [deny(['core', 'io', 'worker', 'main', 'preload'], 'the renderer talks to the workstation only through the API contract (src/shared/api.ts)')],
        [...noNode.paths, noElectron, { name: 'better-sqlite3', message: 'the renderer never touches a database' }, { name: 'mysql2', message: 'the renderer never touches a database' }],
      ),
    },
  },
  {
    // Code that tests load must never pull Electron in (the binary may be absent).
    files: ['test/**/*.ts', 'e2e/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{js,ts}'],
    rules: restrict([], [noElectron]),
  },
);
