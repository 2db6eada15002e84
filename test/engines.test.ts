import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
// npm's own range matcher (a dependency of the toolchain), so ranges are read exactly as npm reads them.
const semver = createRequire(join(root, 'package.json'))('semver') as { satisfies(version: string, range: string): boolean; minVersion(range: string): { version: string } | null };

interface LockEntry {
  engines?: { node?: string };
}

describe('the Node version the project is tested on', () => {
  it("every locked dependency supports the lowest Node that package.json's engines allow, except Electron's downloader chain", () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
    const lowest = semver.minVersion(pkg.engines.node)?.version;
    expect(lowest).toMatch(/^20\./);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
    const excluded = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.engines?.node !== undefined && !semver.satisfies(lowest ?? '', entry.engines.node))
      .map(([path]) => path.replace(/^.*node_modules\//, ''))
      .sort();
    // electron ^45 is kept on purpose (older ones download their binary at install): README "Development".
    expect(excluded).toEqual(['@electron-internal/extract-zip', '@electron/get', 'electron']);
  });
});
