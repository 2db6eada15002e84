import mysql from 'mysql2/promise';
import { MysqlBarStore } from '../src/io/mysqlBarStore.js';
const m = await MysqlBarStore.connect('mysql://root@127.0.0.1/kestrel_t_perf4');
const key = { symbol: 'rb2501', exchange: 'SHFE', interval: '1m' as const };
const c = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: 'kestrel_t_perf4', dateStrings: true });
const sql = 'SELECT `datetime`, `open_price`, `high_price`, `low_price`, `close_price`, `volume`, `turnover`, `open_interest` FROM dbbardata FORCE INDEX (dbbardata_symbol_exchange_interval_datetime) WHERE symbol=? AND exchange=? AND `interval`=?';
for (let r = 0; r < 2; r++) {
  let t = performance.now(); let n = 0;
  for await (const ch of m.loadRange(key)) n += ch.length;
  console.log('store', n, (n / (performance.now() - t) * 1000) | 0);
  t = performance.now();
  let last = '1000-01-01 00:00:00'; n = 0; const times: number[] = [];
  for (;;) { const q = performance.now(); const [rows] = await c.query({ sql: sql + ' AND datetime > ? ORDER BY datetime LIMIT 10000', values: ['rb2501','SHFE','1m', last], rowsAsArray: true }); times.push(Math.round(performance.now()-q)); const rr = rows as unknown as string[][]; n += rr.length; if (rr.length < 10000) break; last = rr[rr.length-1]![0]!; }
  console.log('raw chunks', (n / (performance.now() - t) * 1000) | 0, times.join(' '));
  t = performance.now();
  const [rows] = await c.query({ sql: sql + ' ORDER BY datetime', values: ['rb2501','SHFE','1m'], rowsAsArray: true });
  t = performance.now(); last = '1000-01-01 00:00:00'; n = 0;
  for (;;) { const [rows] = await c.execute({ sql: sql + ' AND datetime > ? ORDER BY datetime LIMIT 10000', values: ['rb2501','SHFE','1m', last], rowsAsArray: true }); const rr = rows as unknown as string[][]; n += rr.length; if (rr.length < 10000) break; last = rr[rr.length-1]![0]!; }
  console.log('exec chunks', (n / (performance.now() - t) * 1000) | 0);
  console.log('raw whole', ((rows as unknown[]).length / (performance.now() - t) * 1000) | 0);
}
await c.end(); await m.close();
