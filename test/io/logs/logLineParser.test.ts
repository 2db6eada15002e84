import { describe, expect, it } from 'vitest';
import {
  compareTimeKeys,
  levelOfText,
  levelTokensAtLeast,
  parseLogText,
  timeKeyOf,
  toLogLine,
} from '../../../src/io/logs/logLineParser.js';
import type { LogLevelName } from '../../../src/shared/contract/logs.js';

describe('JSON lines', () => {
  it('takes time, level, variant and message out and keeps the rest as fields', () => {
    const p = parseLogText('{"time":"2026-01-05T01:02:03.456Z","level":"WARNING","variant":"demo-15m","message":"restore finished","minuteBars":9000,"degraded":false}');
    expect(p).toEqual({
      time: '2026-01-05T01:02:03.456Z',
      level: 'WARNING',
      variant: 'demo-15m',
      message: 'restore finished',
      fields: { minuteBars: 9000, degraded: false },
    });
  });

  it('understands the other loggers’ keys: levelname/asctime/msg, structlog event, epoch times', () => {
    expect(parseLogText('{"asctime":"2026-01-05 09:00:00,123","levelname":"error","msg":"order rejected","name":"broker"}')).toEqual({
      time: '2026-01-05 09:00:00,123',
      level: 'ERROR',
      variant: null,
      message: 'order rejected',
      fields: { name: 'broker' },
    });
    const s = parseLogText('{"event":"bar closed","level":"info","timestamp":1767574923}');
    expect(s.message).toBe('bar closed');
    expect(s.level).toBe('INFO');
    expect(s.time).toBe('2026-01-05T01:02:03.000Z');
    expect(parseLogText('{"ts":1767574923456,"severity":"fatal"}')).toMatchObject({ time: '2026-01-05T01:02:03.456Z', level: 'CRITICAL' });
  });

  it('a level it does not know, or none, is null; a JSON array or a broken object is plain text', () => {
    expect(parseLogText('{"level":"chatty","message":"x"}').level).toBeNull();
    expect(parseLogText('{"level":"chatty","message":"x"}').fields).toEqual({ level: 'chatty' });
    expect(parseLogText('[1,2,3]')).toMatchObject({ level: null, message: '[1,2,3]', fields: {} });
    // Cut short (a line over the read limit): still gets its level from the text.
    expect(parseLogText('{"time":"2026-01-05T01:02:03Z","level":"ERROR","message":"aaa')).toMatchObject({ level: 'ERROR', fields: {} });
  });

  it('cuts a huge message and huge fields, never splitting a surrogate pair', () => {
    const p = parseLogText(JSON.stringify({ message: `${'a'.repeat(4095)}😀tail`, blob: 'b'.repeat(5000), nested: { big: 'c'.repeat(3000) } }));
    expect(p.message).toBe(`${'a'.repeat(4095)}…`);
    expect((p.fields.blob as string).length).toBe(1025);
    expect(typeof p.fields.nested).toBe('string');
  });
});

describe('plain-text lines', () => {
  const cases: [string, LogLevelName | null, string | null, string][] = [
    // python logging's default format with asctime
    ['2026-01-05 09:00:00,123 - strategy - ERROR - order rejected', 'ERROR', '2026-01-05 09:00:00,123', 'strategy - ERROR - order rejected'],
    ['2026-01-05 09:00:00 [WARN] margin low', 'WARNING', '2026-01-05 09:00:00', 'margin low'],
    ['[2026-01-05T09:00:00.5+08:00] INFO bar closed', 'INFO', '2026-01-05T09:00:00.5+08:00', 'bar closed'],
    ['2026-01-05T01:00:00Z level=error msg="feed lost"', 'ERROR', '2026-01-05T01:00:00Z', 'level=error msg="feed lost"'],
    ['time=2026 lvl=WARN something', 'WARNING', null, 'time=2026 lvl=WARN something'],
    ['2026-01-05 09:00:00.123 | CRITICAL | engine:run:12 - kill switch', 'CRITICAL', '2026-01-05 09:00:00.123', 'engine:run:12 - kill switch'],
    ['ERROR: cannot open bar store', 'ERROR', null, 'cannot open bar store'],
    ['Error: ENOENT: no such file', 'ERROR', null, 'Error: ENOENT: no such file'],
    ['warning: deprecated option', 'WARNING', null, 'warning: deprecated option'],
    ['2026/01/05 09:00:00 <FATAL> gone', 'CRITICAL', '2026/01/05 09:00:00', 'gone'],
    ['DEBUG tick 3501', 'DEBUG', null, 'tick 3501'],
    // A level word in lower case inside the message is not a level.
    ['2026-01-05 09:00:00 no error found, info only', null, '2026-01-05 09:00:00', 'no error found, info only'],
    // Part of a longer word is not a level.
    ['2026-01-05 09:00:00 INFORMATIONAL ERRORS_TOTAL=3', null, '2026-01-05 09:00:00', 'INFORMATIONAL ERRORS_TOTAL=3'],
    ['  File "strategy.py", line 12, in on_bar', null, null, 'File "strategy.py", line 12, in on_bar'],
    ['Traceback (most recent call last):', null, null, 'Traceback (most recent call last):'],
    ['', null, null, ''],
    ['\uFEFF2026-01-05 09:00:00 INFO first line with a BOM', 'INFO', '2026-01-05 09:00:00', 'first line with a BOM'],
    ['2026-01-05 09:00:00 价格 突破 WARNING 订单', 'WARNING', '2026-01-05 09:00:00', '价格 突破 WARNING 订单'],
  ];
  it.each(cases)('%j → %s', (text, level, time, message) => {
    const p = parseLogText(text);
    expect({ level: p.level, time: p.time, message: p.message }).toEqual({ level, time, message });
    expect(p.variant).toBeNull();
    expect(p.fields).toEqual({});
    expect(levelOfText(text)).toBe(level);
  });

  it('a level deep in a long line is message text, not the level', () => {
    expect(parseLogText(`${'x '.repeat(150)}ERROR`).level).toBeNull();
  });
});

describe('display text', () => {
  it('keeps short lines as written and cuts long ones at 4096 characters, saying how much is left', () => {
    expect(toLogLine('short', 3).raw).toBe('short');
    const long = `${'é'.repeat(5000)}`;
    const line = toLogLine(long, 1);
    expect(line.raw.startsWith('é'.repeat(4096))).toBe(true);
    expect(line.raw.endsWith(`… [${(904 * 2).toLocaleString('en-US')} more bytes]`)).toBe(true);
    expect(toLogLine('abc', null, 1000).raw).toBe('abc… [1,000 more bytes]');
    expect(toLogLine('abc', null).lineNo).toBeNull();
  });
});

describe('level tokens', () => {
  it('every alias of a level at or above the minimum contains one of the tokens', () => {
    const aliases: [string, LogLevelName][] = [
      ['error', 'ERROR'], ['err', 'ERROR'], ['severe', 'ERROR'], ['critical', 'CRITICAL'], ['fatal', 'CRITICAL'],
      ['warning', 'WARNING'], ['warn', 'WARNING'], ['info', 'INFO'], ['notice', 'INFO'], ['debug', 'DEBUG'], ['trace', 'DEBUG'],
    ];
    const rank = { DEBUG: 1, INFO: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };
    for (const min of ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const) {
      const tokens = levelTokensAtLeast(min);
      for (const [alias, level] of aliases) {
        if (rank[level] >= rank[min]) expect(tokens.some((t) => alias.includes(t)), `${min}: ${alias}`).toBe(true);
      }
    }
    expect(levelTokensAtLeast('ERROR')).not.toContain('warn');
  });
});

describe('time keys', () => {
  it('reads the digits as written, and compares by instant only when both name a zone', () => {
    const naive = timeKeyOf('2026-01-05 09:00:00');
    const isoZ = timeKeyOf('2026-01-05T09:00:00.250Z');
    const cn = timeKeyOf('2026-01-05T17:00:00+08:00');
    expect(naive).toEqual({ naiveMs: Date.UTC(2026, 0, 5, 9), epochMs: null });
    expect(isoZ).toEqual({ naiveMs: Date.UTC(2026, 0, 5, 9, 0, 0, 250), epochMs: Date.UTC(2026, 0, 5, 9, 0, 0, 250) });
    expect(cn?.epochMs).toBe(Date.UTC(2026, 0, 5, 9));
    if (!naive || !isoZ || !cn) throw new Error('unparsed');
    expect(compareTimeKeys(naive, isoZ)).toBeLessThan(0);
    expect(compareTimeKeys(cn, isoZ)).toBeLessThan(0); // same day, 09:00 UTC vs 09:00:00.25 UTC
    expect(compareTimeKeys(naive, cn)).toBeLessThan(0); // as written: 09:00 before 17:00
    expect(timeKeyOf('2026-01-05 09:00:00,123')?.naiveMs).toBe(Date.UTC(2026, 0, 5, 9, 0, 0, 123));
    expect(timeKeyOf('2026-01-05')?.naiveMs).toBe(Date.UTC(2026, 0, 5));
    expect(timeKeyOf('yesterday')).toBeNull();
    expect(timeKeyOf('2026-13-05 09:00:00')).toBeNull();
  });
});
