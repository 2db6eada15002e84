export interface BenchFigure {
  name: string;
  value: number;
  unit: string;
  /** A peer library's figure for the same work, measured in the same process. */
  peer?: { name: string; value: number };
  note?: string;
}

/** Runs fn once to warm up, then `rounds` times; returns the best seconds. */
export function bestOf(rounds: number, fn: () => void): number {
  fn();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return best;
}

/**
 * Like bestOf, with the CPU seconds (process.cpuUsage: user + system) of the best round beside its
 * wall seconds: on a shared machine a one-thread figure per CPU second is the steadier one.
 */
export function bestOfTimed(rounds: number, fn: () => void): { wall: number; cpu: number } {
  fn();
  let wall = Infinity;
  let cpu = 0;
  for (let i = 0; i < rounds; i++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    if (s < wall) {
      wall = s;
      cpu = (c.user + c.system) / 1e6;
    }
  }
  return { wall, cpu };
}

export async function bestOfAsync(rounds: number, fn: () => Promise<void>): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (s < best) best = s;
  }
  return best;
}
