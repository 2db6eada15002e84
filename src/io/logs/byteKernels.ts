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

  constructor(readonly capacity: number) {
    const pages = Math.ceil((2 * capacity) / PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
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

  /** folded[0, len) = raw[0, len) with ASCII letters in lower case. */
  fold(len: number): Buffer {
    this.fns.fold(0, this.capacity, len);
    return this.folded.subarray(0, len);
  }
}
