import { ESLint } from 'eslint';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

/** Lints a would-be source file at `path` without writing it, with the project's config. */
async function violations(path: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('the layers of ARCHITECTURE.md are enforced by lint', () => {
  it('the renderer cannot reach Node, files, databases, Electron or the main process', async () => {
    const found = await violations(
      'src/renderer/zz-probe.ts',
      [
        "import { writeFileSync } from 'node:fs';",
        "import Database from 'better-sqlite3';",
        "import { ipcRenderer } from 'electron';",
        "import { Workstation } from '../main/workstation/workstation.js';",
        "import { SqliteBarStore } from '../io/sqliteBarStore.js';",
        'export const probe = [writeFileSync, Database, ipcRenderer, Workstation, SqliteBarStore];',
      ].join('\n'),
    );
    expect(found).toHaveLength(5);
  });

  it('core stays pure: no Node, no I/O layer', async () => {
    const found = await violations(
      'src/core/zz-probe.ts',
      "import { readFileSync } from 'node:fs';\nimport { openBarStore } from '../io/openBarStore.js';\nexport const p = [readFileSync, openBarStore];",
    );
    expect(found).toHaveLength(2);
  });

  it('only src/main/electron and src/preload import electron', async () => {
    expect(await violations('src/main/workstation/zz-probe.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(1);
    expect(await violations('src/worker/zz-probe.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(1);
    expect(await violations('src/main/electron/zz-probe.ts', "import { app } from 'electron';\nexport const a = app;")).toHaveLength(0);
  });

  it('io, used by workers and main alike, depends on neither', async () => {
    expect(
      await violations('src/io/zz-probe.ts', "import { Workstation } from '../main/workstation/workstation.js';\nexport const w = Workstation;"),
    ).toHaveLength(1);
  });
});
