/**
 * Whether an address or host name stays on this machine. Only names that cannot mean another
 * machine count: "localhost" (and *.localhost, RFC 6761), 127.0.0.0/8, ::1 and its IPv4-mapped
 * form. A name resolving to 127.0.0.1 through DNS or /etc/hosts does not: resolution can change.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = h.replace(/^::ffff:/, '');
  const octets = v4.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

/** The host of an http(s) URL as isLoopbackHost reads it; null when the text is not a URL. */
export function urlHost(url: string): string | null {
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}
