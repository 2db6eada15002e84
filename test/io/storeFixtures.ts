/**
 * Test helpers for the bar stores: a throw-away MariaDB database per test file, a fresh tmp dir,
 * and generated bars whose values are known because the test made them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect, type Socket } from 'node:net';
import mysql from 'mysql2/promise';
import type { BarInterval, StoredBar } from '../../src/shared/bar.js';

export const MYSQL_ADMIN = { host: '127.0.0.1', port: 3306, user: 'root', password: '' };

export interface TempMysqlDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export async function createTempMysqlDb(): Promise<TempMysqlDb> {
  const name = `kestrel_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = await mysql.createConnection(MYSQL_ADMIN);
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: `mysql://root@127.0.0.1:3306/${name}`,
    async drop() {
      const c = await mysql.createConnection(MYSQL_ADMIN);
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TempDir {
  path: string;
  remove(): void;
}

export function createTempDir(prefix = 'kestrel-io-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * `count` consecutive 1-minute bars from `startTime` (local-as-UTC seconds), skipping nothing.
 * Prices are a deterministic zig-zag with fractional parts so float round trips are exercised.
 */
export function makeBars(
  symbol: string,
  exchange: string,
  startTime: number,
  count: number,
  opts: { interval?: BarInterval; basePrice?: number; stepSeconds?: number } = {},
): StoredBar[] {
  const bars: StoredBar[] = [];
  const base = opts.basePrice ?? 3600;
  const step = opts.stepSeconds ?? 60;
  for (let i = 0; i < count; i++) {
    const open = base + ((i * 7) % 23) - 11 + 0.25;
    const close = open + ((i % 5) - 2) * 0.5;
    bars.push({
      symbol,
      exchange,
      interval: opts.interval ?? '1m',
      time: startTime + i * step,
      open,
      high: Math.max(open, close) + 1.5,
      low: Math.min(open, close) - 1.25,
      close,
      volume: 100 + (i % 17),
      turnover: (100 + (i % 17)) * close * 10,
      openInterest: 50_000 + i,
    });
  }
  return bars;
}

/** Drops the store-placement fields: what a store returns for a StoredBar. */
export function ohlcvOf(bar: StoredBar): {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  turnover: number;
  openInterest: number;
} {
  const { time, open, high, low, close, volume, turnover, openInterest } = bar;
  return { time, open, high, low, close, volume, turnover, openInterest };
}

export async function collect<T>(chunks: AsyncIterable<T[]>): Promise<{ items: T[]; chunkSizes: number[] }> {
  const items: T[] = [];
  const chunkSizes: number[] = [];
  for await (const chunk of chunks) {
    chunkSizes.push(chunk.length);
    for (const item of chunk) items.push(item);
  }
  return { items, chunkSizes };
}

/**
 * A TCP proxy to MariaDB that can "lose" every connection open at a moment: the client does not
 * notice until it sends its next statement, which then dies in flight (PROTOCOL_CONNECTION_LOST),
 * just as when a server restarts or a NAT drops an idle connection.
 */
export interface FlakyProxy {
  port: number;
  /** Every connection open now dies when it is next used; later connections work. */
  loseOpenConnections(): void;
  close(): Promise<void>;
}

export async function startFlakyProxy(targetPort = 3306): Promise<FlakyProxy> {
  const doomed = new WeakSet<Socket>();
  const open = new Set<Socket>();
  const server = createServer((client) => {
    open.add(client);
    const upstream = connect(targetPort, '127.0.0.1');
    const kill = (): void => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
    };
    client.on('data', (data) => {
      if (doomed.has(client)) kill();
      else upstream.write(data);
    });
    upstream.on('data', (data) => client.write(data));
    client.on('close', kill);
    upstream.on('close', kill);
    client.on('error', kill);
    upstream.on('error', kill);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    loseOpenConnections: () => {
      for (const socket of open) doomed.add(socket);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
