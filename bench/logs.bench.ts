/**
 * The log viewer on a 1 GB JSON-lines log: line-index build, pages (first, last, middle,
 * from the end before the index exists, jump to time), search (time to the first hit, full
 * scan) and a filtered page, each beside a peer run on the same file in a child process:
 * `wc -l` for the index (the same newline count), `grep -m1` for the first hit, `grep -c`
 * for a full scan.
 *
 * Searches run on the scan threads (one byte range per core, src/io/logs/scanThreads.ts); the
 * pool is warmed by one small search first, as a running workstation keeps it. Ratios to grep
 * are printed for the full scans (case-sensitive, -insensitive, regex) and the level filter.
 *
 * The file is generated once into bench/.data/ (gitignored) and reused. Set
 * KESTREL_BENCH_LOG_MB to change its size.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineIndex } from '../src/io/logs/lineIndex.js';
import { readFilteredPage, readUnfilteredPage } from '../src/io/logs/logPaging.js';
import { buildLineFilter, searchLogFile, type SearchParams } from '../src/io/logs/logSearch.js';
import { MatchIndex } from '../src/io/logs/matchIndex.js';
import type { BenchFigure } from './figure.js';

const TARGET_MB = Number(process.env.KESTREL_BENCH_LOG_MB ?? 1024);
const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), '.data');
const FILE = join(DATA_DIR, `bench-${TARGET_MB}mb.log`);
/** Rare: one line in ~1,000 ("order rejected"); the first at line ~700. */
const RARE = 'rejected';
/** Case-insensitive regex, a handful per million lines. */
const REGEX = 'kill\\s+switch\\s+\\d{3}';

function seconds(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Fast generation: lines built from templates into 8 MB strings, written in one call each. */
function generate(): number {
  mkdirSync(DATA_DIR, { recursive: true });
  const tmp = `${FILE}.tmp`;
  const fd = openSync(tmp, 'w');
  const target = TARGET_MB * 1024 * 1024;
  const t0 = Date.UTC(2026, 0, 5) ;
  const levels = ['INFO', 'INFO', 'INFO', 'DEBUG', 'INFO', 'WARNING', 'INFO', 'DEBUG', 'INFO', 'INFO'];
  const messages = ['bar closed', 'window bar emitted', 'macd cross up', 'td setup 9', 'position check', 'allocation ok', 'heartbeat'];
  let written = 0;
  let seq = 0;
  let s = 12345;
  while (written < target) {
    const parts: string[] = [];
    let size = 0;
    while (size < 8 * 1024 * 1024) {
      s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
      const r = s % 100_000;
      const time = new Date(t0 + seq * 50).toISOString();
      let line: string;
      if (r % 1000 === 7) {
        line = `{"time":"${time}","level":"ERROR","variant":"bench-15m","message":"order ${RARE} by risk limit","seq":${seq},"orderId":"o${r}","reason":"margin"}\n`;
      } else if (r < 4) {
        line = `{"time":"${time}","level":"CRITICAL","variant":"bench-15m","message":"Kill switch ${100 + r} engaged","seq":${seq}}\n`;
      } else {
        const level = levels[r % levels.length] as string;
        const message = messages[r % messages.length] as string;
        line = `{"time":"${time}","level":"${level}","variant":"bench-15m","message":"${message}","seq":${seq},"vtSymbol":"rb2605.SHFE","close":${3400 + (r % 400) / 2},"volume":${r % 5000},"window":15}\n`;
      }
      parts.push(line);
      size += line.length;
      seq++;
    }
    const buf = Buffer.from(parts.join(''), 'latin1');
    writeSync(fd, buf);
    written += buf.length;
  }
  closeSync(fd);
  renameSync(tmp, FILE);
  return seq;
}

/** Wall time of a command on the file, and its output. */
function peer(cmd: string, args: string[]): { seconds: number; out: string } {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(cmd, [...args, FILE], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const s = seconds(t0);
  if (res.status !== 0 && res.status !== 1) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return { seconds: s, out: res.stdout.trim() };
}

async function search(params: Partial<SearchParams> & { pattern: string }): Promise<{ first: number; total: number; hits: number }> {
  const t0 = process.hrtime.bigint();
  let first = Number.NaN;
  let hits = 0;
  await searchLogFile(
    FILE,
    { regex: false, caseSensitive: false, limit: 100_000, ...params },
    (e) => {
      if (e.type !== 'hit') return;
      if (hits === 0) first = seconds(t0);
      hits++;
    },
    new AbortController().signal,
  );
  return { first, total: seconds(t0), hits };
}

export async function run(): Promise<BenchFigure[]> {
  const figures: BenchFigure[] = [];
  if (!existsSync(FILE)) {
    const t0 = process.hrtime.bigint();
    const lines = generate();
    figures.push({ name: 'generate the log (once, reused)', value: seconds(t0), unit: 's', note: `${lines.toLocaleString('en-US')} lines → ${FILE}` });
  }
  const bytes = statSync(FILE).size;
  const mb = bytes / 1024 / 1024;
  // Warm the page cache for both sides alike: the peer reads the whole file first.
  const wc = peer('wc', ['-l']);
  const wcAgain = peer('wc', ['-l']);
  const lineCount = Number(wc.out.split(/\s+/)[0]);

  // Index build, in the background, while pages are asked for.
  const index = new LineIndex(FILE, { inlineCatchUpBytes: 0 });
  let t0 = process.hrtime.bigint();
  await index.refresh();
  const firstPage = await readUnfilteredPage(index, { page: 1, pageSize: 200 });
  const firstPageS = seconds(t0);
  const t1 = process.hrtime.bigint();
  const lastEarly = await readUnfilteredPage(index, { page: 1, pageSize: 200, fromEnd: true });
  const lastEarlyS = seconds(t1);
  const earlyWhileBuilding = !lastEarly.index.done;
  await index.whenDone();
  const buildS = seconds(t0);
  if (index.lines !== lineCount) throw new Error(`index counted ${index.lines} lines, wc -l ${lineCount}`);
  if (firstPage.lines.length !== 200 || lastEarly.lines.length !== 200) throw new Error('short page');

  // A second build with nothing else going on: the index's own speed.
  const solo = new LineIndex(FILE, { inlineCatchUpBytes: 0 });
  t0 = process.hrtime.bigint();
  await solo.refresh();
  await solo.whenDone();
  const soloS = seconds(t0);
  solo.close();
  const wcS = Math.min(wc.seconds, wcAgain.seconds);
  figures.push({ name: `index build, ${mb.toFixed(0)} MB, ${lineCount.toLocaleString('en-US')} lines`, value: soloS, unit: 's', peer: { name: 'wc -l', value: wcS } });
  figures.push({ name: 'index build throughput', value: mb / soloS, unit: 'MB/s', peer: { name: 'wc -l', value: mb / wcS } });
  figures.push({ name: 'index build while serving the pages below', value: buildS, unit: 's' });
  figures.push({ name: 'first page (200 lines), index just started', value: firstPageS * 1000, unit: 'ms' });
  figures.push({
    name: 'last page (200 lines) before the index is done',
    value: lastEarlyS * 1000,
    unit: 'ms',
    note: earlyWhileBuilding ? 'answered while the index was being built (read backwards)' : 'the index was already done',
  });

  t0 = process.hrtime.bigint();
  const last = await readUnfilteredPage(index, { page: 1, pageSize: 200, fromEnd: true });
  figures.push({ name: 'last page (200 lines), index done', value: seconds(t0) * 1000, unit: 'ms', note: `lines ${last.lines[0]?.lineNo}…${last.lines.at(-1)?.lineNo}` });
  t0 = process.hrtime.bigint();
  const middlePage = Math.floor(lineCount / 200 / 2);
  await readUnfilteredPage(index, { page: middlePage, pageSize: 200 });
  figures.push({ name: `middle page ${middlePage.toLocaleString('en-US')} (200 lines)`, value: seconds(t0) * 1000, unit: 'ms' });
  t0 = process.hrtime.bigint();
  const at = await readUnfilteredPage(index, { page: 1, pageSize: 200, at: new Date(Date.UTC(2026, 0, 5) + Math.floor(lineCount * 0.7) * 50).toISOString() });
  figures.push({ name: 'jump to time (binary search on checkpoints)', value: seconds(t0) * 1000, unit: 'ms', note: `page ${at.page}` });

  // Search: first hit and the full scan, beside grep on the same file.
  await search({ pattern: RARE, limit: 1 });
  const grepFirst = peer('grep', ['-m1', RARE]);
  const grepCount = peer('grep', ['-c', RARE]);
  const grepCountI = peer('grep', ['-ci', RARE]);
  const insensitive = await search({ pattern: RARE });
  const sensitive = await search({ pattern: RARE, caseSensitive: true });
  if (insensitive.hits !== Number(grepCountI.out) || sensitive.hits !== Number(grepCount.out)) {
    throw new Error(`hit counts differ: ${insensitive.hits}/${grepCountI.out} (-i), ${sensitive.hits}/${grepCount.out}`);
  }
  figures.push({ name: `search "${RARE}": time to the first hit`, value: insensitive.first * 1000, unit: 'ms', peer: { name: 'grep -m1', value: grepFirst.seconds * 1000 } });
  figures.push({ name: `search "${RARE}" (case-insensitive), full scan`, value: insensitive.total, unit: 's', peer: { name: 'grep -ci', value: grepCountI.seconds }, note: `${insensitive.hits.toLocaleString('en-US')} hits` });
  figures.push({ name: `search "${RARE}" (case-sensitive), full scan`, value: sensitive.total, unit: 's', peer: { name: 'grep -c', value: grepCount.seconds } });
  figures.push({ name: 'search full-scan throughput (case-insensitive)', value: mb / insensitive.total, unit: 'MB/s', peer: { name: 'grep -ci', value: mb / grepCountI.seconds } });
  const grepRegex = peer('grep', ['-ciP', REGEX]);
  const regex = await search({ pattern: REGEX, regex: true });
  if (regex.hits !== Number(grepRegex.out)) throw new Error(`regex hits ${regex.hits}, grep ${grepRegex.out}`);
  figures.push({ name: `regex /${REGEX}/i, full scan`, value: regex.total, unit: 's', peer: { name: 'grep -ciP', value: grepRegex.seconds }, note: `${regex.hits} hits` });

  // Filtered paging: the first page of ERROR+ lines, then the totals.
  const matches = new MatchIndex(index, buildLineFilter({ level: 'ERROR' }));
  t0 = process.hrtime.bigint();
  await readFilteredPage(index, matches, { page: 1, pageSize: 200, level: 'ERROR' });
  figures.push({ name: 'filtered page 1 (level ERROR+, 200 lines)', value: seconds(t0) * 1000, unit: 'ms' });
  t0 = process.hrtime.bigint();
  await matches.advance(() => false);
  const filterS = seconds(t0);
  const grepLevel = peer('grep', ['-c', '"level":"ERROR"\\|"level":"CRITICAL"']);
  if (matches.count !== Number(grepLevel.out)) throw new Error(`level filter counted ${matches.count} lines, grep ${grepLevel.out}`);
  figures.push({
    name: 'filter ERROR+ over the whole file (totals)',
    value: filterS,
    unit: 's',
    peer: { name: 'grep -c ERROR|CRITICAL', value: grepLevel.seconds },
    note: `${matches.count.toLocaleString('en-US')} lines (grep: ${grepLevel.out}); target ≤ 1.5×; scanned on the threads, the level words found as bytes`,
  });
  t0 = process.hrtime.bigint();
  const lastErrors = await readFilteredPage(index, matches, { page: 1, pageSize: 200, level: 'ERROR', fromEnd: true });
  figures.push({ name: 'filtered last page (ERROR+), list complete', value: seconds(t0) * 1000, unit: 'ms', note: `${lastErrors.lines.length} lines` });
  matches.close();

  // A denser level (one line in ten): most candidate lines have their level read from the field's bytes.
  const warnings = new MatchIndex(index, buildLineFilter({ level: 'WARNING' }));
  t0 = process.hrtime.bigint();
  await warnings.advance(() => false);
  const warnS = seconds(t0);
  const grepWarn = peer('grep', ['-c', '"level":"WARNING"\\|"level":"ERROR"\\|"level":"CRITICAL"']);
  if (warnings.count !== Number(grepWarn.out)) throw new Error(`level filter counted ${warnings.count} lines, grep ${grepWarn.out}`);
  figures.push({
    name: 'filter WARNING+ over the whole file (totals)',
    value: warnS,
    unit: 's',
    peer: { name: 'grep -c WARNING|ERROR|CRITICAL', value: grepWarn.seconds },
    note: `${warnings.count.toLocaleString('en-US')} lines`,
  });
  warnings.close();
  index.close();
  return figures;
}
