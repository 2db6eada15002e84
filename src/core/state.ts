/**
 * Checks for restoring core states from JSON. A checkpoint may come from a file written by an
 * older build or edited by hand; a wrong one must fail loudly at restore, naming the field,
 * rather than produce silently wrong signals later.
 */

export function assertObject(value: unknown, what: string): asserts value is object {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${what}: expected an object`);
  }
}

export function assertVersion(state: object, version: number, what: string): void {
  const v = (state as { version?: unknown }).version;
  if (v !== version) throw new Error(`${what}: version ${String(v)} is not the supported version ${String(version)}`);
}

export function assertFinite(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${what}: expected a finite number, got ${String(value)}`);
}

export function assertFiniteOrNull(value: unknown, what: string): asserts value is number | null {
  if (value !== null) assertFinite(value, what);
}

export function assertCount(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new Error(`${what}: expected a non-negative integer, got ${String(value)}`);
  }
}

export function assertFiniteArray(value: unknown, what: string, maxLength: number): asserts value is number[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected an array`);
  if (value.length > maxLength) throw new Error(`${what}: ${String(value.length)} entries, at most ${String(maxLength)} expected`);
  for (let i = 0; i < value.length; i++) assertFinite(value[i], `${what}[${String(i)}]`);
}

export function assertPeriod(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`${what}: expected a whole number of bars of at least 1, got ${String(value)}`);
  }
}
