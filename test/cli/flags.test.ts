import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/main/cli/command.js';
import { analyzeCommand } from '../../src/main/cli/analyze.js';
import { exportCommand } from '../../src/main/cli/export.js';
import { choiceFlag, datetimeFlag, intFlag, parseFlags, requireFlag } from '../../src/main/cli/flags.js';
import { importCommand } from '../../src/main/cli/import.js';
import { runCommand } from './cliHarness.js';

const SPEC = { file: { type: 'string' }, force: { type: 'boolean' }, tag: { type: 'string', multiple: true } } as const;

describe('parseFlags', () => {
  it('types values and rejects what it does not know, naming it', () => {
    const { values } = parseFlags(['--file', '-', '--force', '--tag', 'a', '--tag', 'b'], SPEC);
    expect(values).toEqual({ file: '-', force: true, tag: ['a', 'b'] });
    expect(() => parseFlags(['--fiel', 'x'], SPEC)).toThrow(new UsageError('unknown flag --fiel'));
    expect(() => parseFlags(['--file'], SPEC)).toThrow(new UsageError('flag --file needs a value'));
    expect(() => parseFlags(['--force=yes'], SPEC)).toThrow(new UsageError('flag --force takes no value'));
    expect(() => parseFlags(['stray'], SPEC)).toThrow(new UsageError('unexpected argument "stray"'));
    expect(parseFlags(['stray'], SPEC, { allowPositionals: true }).positionals).toEqual(['stray']);
  });

  it('converts values', () => {
    expect(datetimeFlag('2024-01-02', 'from')).toBe(Date.UTC(2024, 0, 2) / 1000);
    expect(datetimeFlag('2024-01-02', 'to', { endOfDay: true })).toBe(Date.UTC(2024, 0, 2, 23, 59, 59) / 1000);
    expect(datetimeFlag('2024-01-02 09:30', 'to', { endOfDay: true })).toBe(Date.UTC(2024, 0, 2, 9, 30) / 1000);
    expect(datetimeFlag('2024-01-02T09:30:15', 'from')).toBe(Date.UTC(2024, 0, 2, 9, 30, 15) / 1000);
    expect(() => datetimeFlag('02/01/2024', 'from')).toThrow(/--from "02\/01\/2024" is not a datetime/);
    expect(intFlag('15', 'window', { min: 1 })).toBe(15);
    expect(() => intFlag('1.5', 'window')).toThrow('--window "1.5" is not a whole number');
    expect(() => intFlag('0', 'window', { min: 1 })).toThrow('--window must be at least 1, got 0');
    expect(choiceFlag('csv', 'format', ['csv', 'json'] as const)).toBe('csv');
    expect(() => choiceFlag('xml', 'format', ['csv', 'json'] as const)).toThrow('--format "xml" is not one of csv, json');
    expect(() => requireFlag(undefined, 'file')).toThrow('missing --file');
  });

  it('every command prints its usage for --help and exits 0', async () => {
    for (const command of [importCommand, exportCommand, analyzeCommand]) {
      const run = await runCommand(command, ['--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toBe(command.usage);
      expect(run.stdout).toMatch(new RegExp(`^Usage: kestrel ${command.name} `));
    }
  });
});
