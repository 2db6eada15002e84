/**
 * The two byte loops a log scan spends its time in, as WebAssembly SIMD (16 bytes a step):
 * counting newlines (line numbers for every hit) and folding ASCII letters to lower case (a
 * case-insensitive keyword is then one Buffer.indexOf over the folded copy). In JavaScript both
 * cost a call or a comparison per byte or per line; here they run at memory speed. The module is
 * a few hundred bytes, assembled below, so nothing is downloaded or built.
 *
 * Memory: one region the file is read into (`raw`, from address 0) and one for its folded copy
 * (`folded`), each `capacity` bytes.
 */

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  get: (i: number) => [0x20, i],
  set: (i: number) => [0x21, i],
  tee: (i: number) => [0x22, i],
  i32: (v: number) => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  or: [0x72],
  shl: [0x74],
  eq: [0x46],
  ltU: [0x49],
  gtU: [0x4b],
  geU: [0x4f],
  popcnt: [0x69],
  load8: [0x2d, 0x00, 0x00],
  store8: [0x3a, 0x00, 0x00],
  vload: [0xfd, 0x00, 0x00, 0x00],
  vstore: [0xfd, 0x0b, 0x00, 0x00],
  splat8: [0xfd, 0x0f],
  eq8: [0xfd, 0x23],
  ltU8: [0xfd, 0x26],
  sub8: [0xfd, 0x71],
  bitmask8: [0xfd, 0x64],
  vand: [0xfd, 0x4e],
  vor: [0xfd, 0x50],
  anyTrue: [0xfd, 0x53],
  /** v128.load at the address plus a constant offset. */
  vloadAt: (offset: number) => [0xfd, 0x00, 0x00, ...uleb(offset)],
  ret: [0x0f],
  if: [0x04, 0x40],
};

function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const body = (locals: [number, number][], code: number[][]): number[] => {
  const inner = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code.flat(), ...op.end];
  return [...uleb(inner.length), ...inner];
};

/** count(ptr, len, byte) → how many bytes in [ptr, ptr + len) equal `byte`. Locals: 3 end, 4 n, 5 needle. */
const countBody = body(
  [
    [2, I32],
    [1, V128],
  ],
  [
    op.get(0), op.get(1), op.add, op.set(3),
    op.get(2), op.splat8, op.set(5),
    op.block, op.loop,
    op.get(0), op.i32(16), op.add, op.get(3), op.gtU, op.brIf(1),
    op.get(4), op.get(0), op.vload, op.get(5), op.eq8, op.bitmask8, op.popcnt, op.add, op.set(4),
    op.get(0), op.i32(16), op.add, op.set(0),
    op.br(0), op.end, op.end,
    op.block, op.loop,
    op.get(0), op.get(3), op.geU, op.brIf(1),
    op.get(4), op.get(0), op.load8, op.get(2), op.eq, op.add, op.set(4),
    op.get(0), op.i32(1), op.add, op.set(0),
    op.br(0), op.end, op.end,
    op.get(4),
  ],
);

/** fold(src, dst, len): dst = src with A-Z turned into a-z. Locals: 3 end, 4 b, 5 x. */
const foldBody = body(
  [
    [2, I32],
    [1, V128],
  ],
  [
    op.get(0), op.get(2), op.add, op.set(3),
    op.block, op.loop,
    op.get(0), op.i32(16), op.add, op.get(3), op.gtU, op.brIf(1),
    op.get(1),
    op.get(0), op.vload, op.set(5),
    op.get(5),
    op.get(5), op.i32(65), op.splat8, op.sub8, op.i32(26), op.splat8, op.ltU8, op.i32(32), op.splat8, op.vand,
    op.vor, op.vstore,
    op.get(0), op.i32(16), op.add, op.set(0),
    op.get(1), op.i32(16), op.add, op.set(1),
    op.br(0), op.end, op.end,
    op.block, op.loop,
    op.get(0), op.get(3), op.geU, op.brIf(1),
    op.get(1),
    op.get(0), op.load8, op.tee(4),
    op.get(4), op.i32(65), op.sub, op.i32(26), op.ltU, op.i32(5), op.shl, op.or,
    op.store8,
    op.get(0), op.i32(1), op.add, op.set(0),
    op.get(1), op.i32(1), op.add, op.set(1),
    op.br(0), op.end, op.end,
  ],
);

const MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([[I32]])],
    [0x60, ...vec([[I32], [I32], [I32]]), ...vec([])],
  ])),
  ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
  ...section(3, vec([[0x00], [0x01]])),
  ...section(7, vec([
    [...name('count'), 0x00, 0x00],
    [...name('fold'), 0x00, 0x01],
  ])),
  ...section(10, vec([countBody, foldBody])),
]);

/** Bytes a token prefix is matched on in SIMD: enough to make a hit rare, few enough to stay cheap. */
const PREFIX_BYTES = 3;
const isLower = (b: number): boolean => b >= 0x61 && b <= 0x7a;

/**
 * find(ptr, end) → the start of the first 16-byte block at or after `ptr` (and before `end`) in
 * which some token's first bytes begin, ASCII letters matched in either case; `end` when none.
 * Built per token set, the token bytes as constants: each block is three unaligned loads (a
 * letter is compared as `byte | 0x20`, which equals a lower-case letter only for that letter in
 * either case) and two or three compares per token. It may read up to 18 bytes past `end`; what
 * it finds there, like any block it returns, is only a candidate the caller checks.
 */
function tokenFinderModule(tokens: readonly string[]): Uint8Array<ArrayBuffer> {
  const prefixes = tokens.map((t) => Array.from(t.slice(0, PREFIX_BYTES), (c) => c.charCodeAt(0)));
  // Locals: 0 ptr, 1 end (params); 2..4 the loads at +0..+2; 5..7 their `| 0x20`; 8 acc; then one per distinct byte.
  const distinct = [...new Set(prefixes.flat())];
  const constLocal = (b: number): number => 9 + distinct.indexOf(b);
  const code: number[][] = [];
  for (const b of distinct) code.push(op.i32(b), op.splat8, op.set(constLocal(b)));
  code.push(op.block, op.loop, op.get(0), op.get(1), op.geU, op.brIf(1));
  for (let j = 0; j < PREFIX_BYTES; j++) {
    code.push(op.get(0), op.vloadAt(j), op.tee(2 + j), op.i32(0x20), op.splat8, op.vor, op.set(5 + j));
  }
  prefixes.forEach((bytes, i) => {
    bytes.forEach((b, j) => {
      code.push(op.get(isLower(b) ? 5 + j : 2 + j), op.get(constLocal(b)), op.eq8);
      if (j > 0) code.push(op.vand);
    });
    if (i > 0) code.push(op.vor);
  });
  code.push(op.anyTrue, op.if, op.get(0), op.ret, op.end);
  code.push(op.get(0), op.i32(16), op.add, op.set(0), op.br(0), op.end, op.end, op.get(1));
  const fn = body(
    [
      [0, I32],
      [7 + distinct.length, V128],
    ],
    code,
  );
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32]]), ...vec([[I32]])]])),
    ...section(2, vec([[...name('e'), ...name('m'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0x00]])),
    ...section(7, vec([[...name('find'), 0x00, 0x00]])),
    ...section(10, vec([fn])),
  ]);
}

const tokenModules = new Map<string, WebAssembly.Module>();

let compiled: WebAssembly.Module | null = null;

interface KernelExports {
  count(ptr: number, len: number, byte: number): number;
  fold(src: number, dst: number, len: number): void;
}

const PAGE = 64 * 1024;

export class ByteKernels {
  /** Where a chunk is read to. */
  readonly raw: Buffer;
  /** The folded copy of `raw` made by `fold`. */
  readonly folded: Buffer;
  private readonly fns: KernelExports;
  private readonly memory: WebAssembly.Memory;

  constructor(readonly capacity: number) {
    // One page more than the two regions: a token finder's loads may run past the end of a chunk.
    const pages = Math.ceil((2 * capacity) / PAGE) + 1;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    this.memory = memory;
    compiled ??= new WebAssembly.Module(MODULE_BYTES);
    const instance = new WebAssembly.Instance(compiled, { e: { m: memory } });
    this.fns = instance.exports as unknown as KernelExports;
    this.raw = Buffer.from(memory.buffer, 0, capacity);
    this.folded = Buffer.from(memory.buffer, capacity, capacity);
  }

  /** Newlines in raw[from, to). */
  countNewlines(from: number, to: number): number {
    return to > from ? this.fns.count(from, to - from, 0x0a) : 0;
  }

  /**
   * A finder of lower-case ASCII tokens (each ≥ 2 bytes) in raw: find(from, to) is the start of
   * the first 16-byte block at or after `from` where one of them may begin (matched on its first
   * 3 bytes, ASCII case ignored), or `to`. Every occurrence in [from, to) lies in a block it
   * returns; a block may hold none (the caller checks).
   */
  tokenFinder(tokens: readonly string[]): (from: number, to: number) => number {
    if (tokens.length === 0 || tokens.some((t) => t.length < 2 || !/^[\x00-\x7f]+$/.test(t) || t !== t.toLowerCase())) {
      throw new Error(`token finder: tokens must be lower-case ASCII of 2 bytes or more (${JSON.stringify(tokens)})`);
    }
    const key = tokens.join('\u0000');
    let mod = tokenModules.get(key);
    if (!mod) {
      mod = new WebAssembly.Module(tokenFinderModule(tokens));
      tokenModules.set(key, mod);
    }
    const instance = new WebAssembly.Instance(mod, { e: { m: this.memory } });
    const find = (instance.exports as unknown as { find(ptr: number, end: number): number }).find;
    return (from, to) => Math.min(find(from, to), to);
  }

  /** folded[0, len) = raw[0, len) with ASCII letters in lower case. */
  fold(len: number): Buffer {
    this.fns.fold(0, this.capacity, len);
    return this.folded.subarray(0, len);
  }
}
