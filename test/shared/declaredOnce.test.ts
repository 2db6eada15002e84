import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALERT_LEVELS } from '../../src/shared/alertLevels.js';
import { alertSchema } from '../../src/shared/api.js';
import { alertMinLevelSchema } from '../../src/shared/config.js';
import { DEFAULT_SIGNAL_PARAMS, signalParamsSchema } from '../../src/shared/signalParams.js';
import { macdTdConfigSchema } from '../../src/shared/strategyConfig.js';
import { fromWorkerSchema, workerAlertSchema } from '../../src/shared/workerProtocol.js';

const root = join(import.meta.dirname, '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The files under src/ whose text matches `pattern`, relative to the project. */
function declaredIn(pattern: RegExp): string[] {
  return sources(join(root, 'src'))
    .filter((f) => pattern.test(readFileSync(f, 'utf8')))
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
}

describe('each record is declared once, in src/shared', () => {
  it('alert levels: one list, which the API, the worker protocol and the channel settings all use', () => {
    // The log levels (DEBUG first) are a record of their own.
    expect(declaredIn(/(?<!'DEBUG',\s*)'INFO',\s*'WARNING',\s*'ERROR',\s*'CRITICAL'/)).toEqual(['src/shared/alertLevels.ts']);
    expect(declaredIn(/(?<!'DEBUG'\s*\|\s*)'INFO'\s*\|\s*'WARNING'\s*\|\s*'ERROR'\s*\|\s*'CRITICAL'/)).toEqual([]);
    for (const schema of [alertSchema.shape.level, alertMinLevelSchema, workerAlertSchema.shape.level]) expect(schema.options).toEqual([...ALERT_LEVELS]);
    for (const level of ALERT_LEVELS) expect(fromWorkerSchema.safeParse({ type: 'alert', level, title: 't', message: 'm' }).success, level).toBe(true);
  });

  it('signal parameters: one schema; core has no copy of its fields or defaults', () => {
    expect(declaredIn(/interface SignalParams\b|signalParamsSchema = |DEFAULT_SIGNAL_PARAMS[^=\n]*= (?!Object\.freeze\(signalParamsSchema)/)).toEqual(['src/shared/signalParams.ts']);
    expect(macdTdConfigSchema.shape.signal.unwrap()).toBe(signalParamsSchema);
    expect(DEFAULT_SIGNAL_PARAMS).toEqual(signalParamsSchema.parse({}));
  });
});
