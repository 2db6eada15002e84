import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

/** The layer rule's messages for a would-be source file at `path`, linted (not written) with the project's config. */
async function violations(path: string, imports: string[]): Promise<string[]> {
  const code = [...imports.map((spec, i) => `import * as m${i} from '${spec}';`), `export const probe = [${imports.map((_, i) => `m${i}`).join(', ')}];`].join('\n');
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'kestrel/layers').map((m) => m.message);
}

/** Each probe is one import; the answer says which of them the layer refused. */
async function refused(path: string, imports: string[]): Promise<string[]> {
  // The refusal is what comes before the first ';' (after it, the message lists what is allowed).
  const heads = (await violations(path, imports)).map((m) => m.split(';')[0] ?? '');
  return imports.filter((spec) => heads.some((h) => h.endsWith(`(${spec})`) || h.endsWith(`package ${spec.split('/')[0]}`) || h.startsWith(`${spec} is outside`)));
}

describe('the layers of ARCHITECTURE.md are an allowlist, enforced by lint', () => {
  it('shared: zod and itself; not prom-client, Node, React or any other layer', async () => {
    const bad = ['prom-client', 'node:path', 'react', '../core/signalEngine.js', '../io/barStore.js'];
    expect(await refused('src/shared/zz-probe.ts', [...bad, 'zod', './bar.js', './contract/logs.js'])).toEqual(bad);
    expect(await violations('src/shared/contract/zz-probe.ts', ['../api.js'])).toEqual([]);
  });

  it('core: shared only; not ws, nodemailer, Node, or the I/O layer', async () => {
    const bad = ['ws', 'nodemailer', 'node:fs', 'fs', 'better-sqlite3', '../io/openBarStore.js', '../worker/main.js'];
    expect(await refused('src/core/zz-probe.ts', [...bad, '../shared/bar.js', './signalEngine.js'])).toEqual(bad);
  });

  it('io: core, shared, Node and the store drivers; neither workers nor main', async () => {
    const bad = ['../main/workstation/workstation.js', '../worker/variantRunner.js', 'electron', 'ws'];
    expect(await refused('src/io/zz-probe.ts', [...bad, 'node:fs', 'better-sqlite3', 'mysql2/promise', '../core/windowBars.js'])).toEqual(bad);
  });

  it('worker: io, core, shared and Node (and prom-client for its own series); not main, electron or a package of main', async () => {
    const bad = ['../main/workstation/workstation.js', 'electron', 'nodemailer', '../renderer/sync.js'];
    expect(await refused('src/worker/zz-probe.ts', [...bad, '../io/barStore.js', 'node:path'])).toEqual(bad);
  });

  it('main/workstation never imports a host, Electron or the CLI', async () => {
    const bad = ['../node/apiServer.js', '../electron/main.js', '../cli/main.js', 'electron', 'ws', '../../worker/main.js'];
    expect(await refused('src/main/workstation/zz-probe.ts', [...bad, '../../io/barStore.js', 'prom-client', 'node:http', './alertCenter.js'])).toEqual(bad);
  });

  it('the hosts wrap the workstation; only the desktop host imports electron', async () => {
    expect(await refused('src/main/node/zz-probe.ts', ['electron', '../electron/main.js', '../workstation/workstation.js', 'ws'])).toEqual(['electron', '../electron/main.js']);
    expect(await refused('src/main/electron/zz-probe.ts', ['electron', '../node/apiServer.js', '../workstation/workstation.js', '../desktopPolicy.js'])).toEqual(['../node/apiServer.js']);
    expect(await refused('src/main/cli/zz-probe.ts', ['electron', '../electron/main.js', '../node/apiServer.js'])).toEqual(['electron', '../electron/main.js']);
  });

  it('the desktop policy is pure: no electron, no Node, so it is tested under plain Node', async () => {
    expect(await refused('src/main/desktopPolicy.ts', ['electron', 'node:fs', '../shared/api.js'])).toEqual(['electron', 'node:fs']);
  });

  it('preload: the contract and electron; renderer: the contract, React and the chart library', async () => {
    expect(await refused('src/preload/zz-probe.ts', ['electron', '../shared/api.js', '../core/signalEngine.js', 'node:fs'])).toEqual(['../core/signalEngine.js', 'node:fs']);
    const bad = ['node:fs', 'better-sqlite3', 'electron', '../main/workstation/workstation.js', '../io/sqliteBarStore.js', '../core/windowBars.js'];
    expect(await refused('src/renderer/zz-probe.ts', [...bad, 'react', 'react-dom/client', 'zustand', 'lightweight-charts', '../shared/api.js'])).toEqual(bad);
  });

  it('a file in no layer, or an import reaching outside src/, is refused; the message says what the layer may import', async () => {
    expect(await violations('src/zz-probe.ts', ['zod'])).toEqual([expect.stringContaining('belongs to no layer')]);
    const [message] = await violations('src/core/zz-probe.ts', ['../../package.json']);
    expect(message).toContain('outside every layer');
    const [named] = await violations('src/core/zz-probe.ts', ['ws']);
    expect(named).toContain('src/core may import src/shared');
  });
});
