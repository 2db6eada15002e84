import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/shared/config.js';
import { isLoopbackHost } from '../../src/shared/loopback.js';

describe('isLoopbackHost', () => {
  it('counts only names that cannot mean another machine', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST.', 'app.localhost', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', '128.0.0.1', '127.0.0.256', '127.0.0.1.nip.io', 'localhost.example.com', 'myhost', '::2']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });
});

describe('settings: reaching beyond this machine', () => {
  const fields = (input: unknown): Record<string, string> => {
    const r = settingsSchema.safeParse(input);
    return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [i.path.join('.'), i.message]));
  };

  it('a metrics host or webhook host beyond loopback is refused unless confirmed, naming the confirmation', () => {
    expect(fields({ metrics: { port: 9464, host: '192.168.1.5' } })).toEqual({
      'metrics.host':
        'the metrics host 192.168.1.5 is not loopback: GET /metrics (no token) would be open to the network; to confirm, set metrics.allowNonLoopback (Settings: "Serve beyond this machine")',
    });
    expect(fields({ alerts: { webhook: { url: 'https://hooks.example.com/k' } } })).toEqual({
      'alerts.webhook.url':
        'the webhook host hooks.example.com is not this machine: alerts would leave it; to confirm, set alerts.webhook.allowNonLoopback (Settings: "Post beyond this machine")',
    });
    expect(fields({ metrics: { port: 9464, host: '192.168.1.5', allowNonLoopback: true }, alerts: { webhook: { url: 'https://hooks.example.com/k', allowNonLoopback: true } } })).toEqual({});
    expect(fields({ metrics: { port: 9464, host: 'localhost' }, alerts: { webhook: { url: 'http://127.0.0.1:8080/k' } } })).toEqual({});
    expect(settingsSchema.parse({}).metrics).toEqual({ port: null, host: '127.0.0.1', allowNonLoopback: false, capital: 1_000_000 });
  });
});
