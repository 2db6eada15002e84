/**
 * A short fingerprint of a strategy's parameters, stored with its state so that a state saved
 * under other parameters is noticed on load. FNV-1a (64-bit) over canonical JSON (object keys
 * sorted at every level), so key order in a settings file does not change it.
 */

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error(`canonicalJson: ${String(value)} is not JSON`);
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = 0xffffffffffffffffn;

/** 16 hex digits. */
export function paramsHash(params: unknown): string {
  const text = canonicalJson(params);
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // UTF-16 code units, both bytes, so that any text hashes without an encoder.
    h = ((h ^ BigInt(code & 0xff)) * FNV_PRIME) & MASK_64;
    h = ((h ^ BigInt(code >>> 8)) * FNV_PRIME) & MASK_64;
  }
  return h.toString(16).padStart(16, '0');
}
