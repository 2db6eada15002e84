import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface MetricsAddress {
  host: string;
  port: number;
  url: string;
}

/** `host:port` as a URL authority: an IPv6 address goes in brackets. */
function authority(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * GET /metrics over plain HTTP, without a token (Prometheus' way): bind it to loopback unless
 * the network may read it. Anything else answers 404 or 405.
 */
export class MetricsEndpoint {
  private server: Server | null = null;
  private address: MetricsAddress | null = null;
  private closed = false;

  constructor(
    private readonly exposition: () => Promise<string>,
    private readonly contentType: string,
  ) {}

  /** Where GET /metrics is served; null before listen() and after close(). */
  served(): MetricsAddress | null {
    return this.address;
  }

  /** Binds host:port (0: any free port). Rejects when the port cannot be bound. */
  async listen(host: string, port: number): Promise<MetricsAddress> {
    if (this.address) return this.address;
    if (this.closed) throw new Error('the metrics endpoint is closed');
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        // Once listening, a failed accept must not take the workstation down with it.
        server.on('error', () => undefined);
        resolve();
      });
    });
    const actual = (server.address() as AddressInfo).port;
    this.server = server;
    this.address = { host, port: actual, url: `http://${authority(host, actual)}/metrics` };
    return this.address;
  }

  async close(): Promise<void> {
    this.closed = true;
    const server = this.server;
    this.server = null;
    this.address = null;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // A scraper keeps its connection alive between scrapes; it must not hold the stop up.
      server.closeAllConnections();
      await closed;
    }
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET, HEAD' }).end('GET /metrics only\n');
      return;
    }
    try {
      const body = await this.exposition();
      res.writeHead(200, { 'content-type': this.contentType, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

/** Why host:port could not be bound, in words (`port 9464 is in use`), then the system's own message. */
export function metricsListenFailure(host: string, port: number, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'EADDRINUSE' ? `port ${port} is in use` : code === 'EADDRNOTAVAIL' ? `${host} is not an address of this machine` : 'cannot listen';
  return `GET /metrics on ${host}:${port} cannot be served: ${why} (${err instanceof Error ? err.message : String(err)})`;
}
