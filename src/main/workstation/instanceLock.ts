import { createHash } from 'node:crypto';
import { realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Who holds a data directory: what a second start tells the user. */
export interface InstanceInfo {
  pid: number;
  /** The address the running instance serves its UI at (no token); null before it listens, and on the desktop. */
  url: string | null;
  startedAt: string;
}

export class InstanceLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: InstanceInfo | null,
  ) {
    const who = holder ? `pid ${holder.pid}${holder.url ? `, ${holder.url}` : ''}` : 'its pid did not answer';
    super(`another Kestrel is already running on ${dataDir} (${who}); stop it first, or use another --data-dir`);
    this.name = 'InstanceLockedError';
  }
}

/** The lock file: a note for people and tools; the lock itself is the socket. */
export const LOCK_FILE = 'kestrel.lock';
const ASK_TIMEOUT_MS = 3_000;

/**
 * The socket address that stands for one data directory. On Linux an abstract Unix socket and on
 * Windows a named pipe: both exist only while a process holds them open, so the kernel releases
 * the lock the instant its holder dies, SIGKILL included, and no file is left to go stale. Elsewhere
 * (macOS) a socket file in the temp folder, whose holder is probed: a file nobody answers on is stale.
 */
export function lockAddress(dataDir: string): { path: string; abstract: boolean } {
  const id = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 32);
  if (process.platform === 'linux') return { path: `\0kestrel-${id}`, abstract: true };
  if (process.platform === 'win32') return { path: `\\\\.\\pipe\\kestrel-${id}`, abstract: true };
  return { path: join(tmpdir(), `kestrel-${id}.sock`), abstract: false };
}

/**
 * One running workstation per data directory. `acquire` binds the directory's socket or throws
 * InstanceLockedError naming the holder (asked over that socket, so the answer is live, never a
 * stale file's). The holder answers every connection with its InstanceInfo as one JSON line.
 */
export class InstanceLock {
  private info: InstanceInfo;

  private constructor(
    private readonly dataDir: string,
    private readonly server: Server,
    private readonly socketFile: string | null,
  ) {
    this.info = { pid: process.pid, url: null, startedAt: new Date().toISOString() };
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      socket.end(`${JSON.stringify(this.info)}\n`);
    });
    // The lock never keeps the process alive by itself.
    server.unref();
    this.writeNote();
  }

  static async acquire(dataDir: string): Promise<InstanceLock> {
    const address = lockAddress(dataDir);
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = createServer();
      const bound = await new Promise<NodeJS.ErrnoException | null>((done) => {
        server.once('error', (err: NodeJS.ErrnoException) => done(err));
        server.listen(address.path, () => done(null));
      });
      if (bound === null) return new InstanceLock(dataDir, server, address.abstract ? null : address.path);
      if (bound.code !== 'EADDRINUSE') throw new Error(`cannot lock ${dataDir} (socket ${JSON.stringify(address.path)}): ${bound.message}`);
      const holder = await askHolder(address.path);
      if (holder.alive) throw new InstanceLockedError(dataDir, holder.info);
      // Only a socket file can outlive its holder: nobody answered, so it is stale.
      if (!address.abstract) rmSync(address.path, { force: true });
    }
    throw new InstanceLockedError(dataDir, null);
  }

  /** The running instance's address, once it listens: answered to a second start and written in the note. */
  announce(url: string): void {
    this.info = { ...this.info, url };
    this.writeNote();
  }

  async release(): Promise<void> {
    await new Promise<void>((done) => this.server.close(() => done()));
    if (this.socketFile) rmSync(this.socketFile, { force: true });
    rmSync(join(this.dataDir, LOCK_FILE), { force: true });
  }

  private writeNote(): void {
    writeFileSync(join(this.dataDir, LOCK_FILE), `${JSON.stringify(this.info)}\n`);
  }
}

/** Connects to a lock's socket: alive with the holder's info, or not alive (refused: nobody holds it). */
function askHolder(path: string): Promise<{ alive: boolean; info: InstanceInfo | null }> {
  return new Promise((done) => {
    let text = '';
    const socket = createConnection(path);
    const timer = setTimeout(() => {
      socket.destroy();
      done({ alive: true, info: null });
    }, ASK_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('end', () => {
      clearTimeout(timer);
      done({ alive: true, info: parseInfo(text) });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      done({ alive: err.code !== 'ECONNREFUSED' && err.code !== 'ENOENT', info: null });
    });
  });
}

function parseInfo(text: string): InstanceInfo | null {
  try {
    const value = JSON.parse(text) as Partial<InstanceInfo>;
    if (typeof value.pid !== 'number') return null;
    return { pid: value.pid, url: typeof value.url === 'string' ? value.url : null, startedAt: String(value.startedAt ?? '') };
  } catch {
    return null;
  }
}
