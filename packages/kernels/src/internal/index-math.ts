/**
 * The index arithmetic every kernel shares, as generators of gpu.js kernel source.
 *
 * Kernels are generated as source strings with every shape baked in as a literal: loops then
 * have constant bounds (GLSL requires it), the compiler folds the strides, and the source itself
 * is the cache key of the compiled kernel (see `GpuBackend.run`).
 *
 * Integer division goes through `idiv`, never a bare `Math.floor(a / b)`: on the GL modes every
 * number is a float and `a / b` is not correctly rounded, so `6 / 3` may come out as 1.9999999.
 * Adding one half before dividing keeps the quotient at least `0.5 / b` away from an integer
 * boundary, which holds while `a` stays below about 2^22 (4M elements per tensor dim product);
 * larger tensors are split by the kernels that can meet them (see conv.ts).
 */
import { type Pool2dAttrs, type Shape, sizeOf as size, stridesOf as strides } from '@gpunet/tensor';

/** Row-major strides and element count of a shape: @gpunet/tensor's, under the kernels' names. */
export { size, strides };

/** Source of the floor of `a / b` for a non-negative integer expression `a` and integer `b > 0`. */
export function idiv(a: string, b: number): string {
  if (b === 1) return `(${a})`;
  return `Math.floor(((${a}) + 0.5) / ${b})`;
}

/** Source of `a mod b` for a non-negative integer expression `a` (see `idiv`). */
export function imod(a: string, b: number): string {
  if (b === 1) return '0';
  return `((${a}) - ${idiv(a, b)} * ${b})`;
}

/**
 * Source lines declaring `${prefix}0 .. ${prefix}{rank-1}`, the coordinates of flat index
 * `flat` in `shape` (row-major).
 */
export function unravel(flat: string, shape: Shape, prefix: string): string {
  const s = strides(shape);
  const lines: string[] = [];
  let rest = flat;
  for (let d = 0; d < shape.length; d++) {
    const name = `${prefix}${d}`;
    if (d === shape.length - 1) {
      lines.push(`const ${name} = ${rest};`);
    } else {
      lines.push(`const ${name} = ${idiv(rest, s[d])};`);
      const restName = `${prefix}r${d}`;
      lines.push(`const ${restName} = ${rest} - ${name} * ${s[d]};`);
      rest = restName;
    }
  }
  return lines.join('\n');
}

/** Source of the flat index of `coords` (expressions) in `shape`. */
export function ravel(coords: readonly string[], shape: Shape): string {
  const s = strides(shape);
  const terms = coords.map((c, d) => (s[d] === 1 ? `(${c})` : `(${c}) * ${s[d]}`));
  return terms.length === 0 ? '0' : terms.join(' + ');
}

/**
 * Source of the flat index into `inShape` that NumPy broadcasting maps output coordinates
 * `${prefix}d` (of a rank-`outRank` shape) to.
 */
export function broadcastIndex(inShape: Shape, outRank: number, prefix: string): string {
  const s = strides(inShape);
  const lead = outRank - inShape.length;
  const terms: string[] = [];
  inShape.forEach((dim, d) => {
    if (dim !== 1)
      terms.push(s[d] === 1 ? `${prefix}${d + lead}` : `${prefix}${d + lead} * ${s[d]}`);
  });
  return terms.length === 0 ? '0' : terms.join(' + ');
}

/** A gpu.js kernel function source over a 1-D output: `function(args) { body }`. */
export function kernelSource(args: readonly string[], body: string): string {
  return `function(${args.join(', ')}) {\nconst i = this.thread.x;\n${body}\n}`;
}

/** One operand of `stridedSum`: the reads `name[base + p * step]`. */
export interface StridedRead {
  name: string;
  base: string;
  step: number;
}

/**
 * Source lines adding `a[a.base + p * a.step] * b[b.base + p * b.step]` for `p` in `[0, n)` to
 * `acc`, unrolled `unroll` times: each pass of the loop computes its two base indices once and
 * reads `unroll` products at literal offsets from them, so a product costs its two loads and
 * an add of a constant instead of a multiply, an add and the loop's compare and branch. A sum
 * no longer than `unroll` is written out without a loop. The summation order is the plain
 * loop's, so results are bit-identical to it.
 */
export function stridedSum(
  acc: string,
  n: number,
  a: StridedRead,
  b: StridedRead,
  loopVar: string,
  unroll = 8,
): string[] {
  const plus = (base: string, offset: number) => (offset === 0 ? base : `${base} + ${offset}`);
  const term = (aBase: string, bBase: string, p: number) =>
    `${acc} += ${a.name}[${plus(aBase, p * a.step)}] * ${b.name}[${plus(bBase, p * b.step)}];`;
  const lines: string[] = [];
  const u = Math.max(1, Math.min(unroll, n));
  const whole = n <= unroll ? 0 : n - (n % u);
  if (whole > 0) {
    const aBase = `${loopVar}A`;
    const bBase = `${loopVar}B`;
    lines.push(
      `for (let ${loopVar} = 0; ${loopVar} < ${whole}; ${loopVar} += ${u}) {`,
      `const ${aBase} = ${plus(a.base, 0)} + ${loopVar} * ${a.step};`,
      `const ${bBase} = ${plus(b.base, 0)} + ${loopVar} * ${b.step};`,
    );
    for (let p = 0; p < u; p++) lines.push(term(aBase, bBase, p));
    lines.push('}');
  }
  for (let p = whole; p < n; p++) lines.push(term(`(${a.base})`, `(${b.base})`, p));
  return lines;
}

/** The window geometry that convolution and pooling attributes share. */
export type WindowGeometry = Pick<
  Pool2dAttrs,
  | 'inHeight'
  | 'inWidth'
  | 'outHeight'
  | 'outWidth'
  | 'kernelHeight'
  | 'kernelWidth'
  | 'strideHeight'
  | 'strideWidth'
  | 'padTop'
  | 'padLeft'
  | 'dilationHeight'
  | 'dilationWidth'
>;

/**
 * The output positions `[lo, hi)` along one axis (`h` rows, `w` columns) whose window lies
 * inside the input for every tap: their sums need no bounds check.
 */
export function windowInterior(a: WindowGeometry, axis: 'h' | 'w'): { lo: number; hi: number } {
  const isH = axis === 'h';
  const pad = isH ? a.padTop : a.padLeft;
  const stride = isH ? a.strideHeight : a.strideWidth;
  const out = isH ? a.outHeight : a.outWidth;
  const reach =
    ((isH ? a.kernelHeight : a.kernelWidth) - 1) * (isH ? a.dilationHeight : a.dilationWidth);
  const lo = Math.min(out, Math.ceil(pad / stride));
  const last = (isH ? a.inHeight : a.inWidth) - 1 + pad - reach;
  const hi = last < 0 ? lo : Math.max(lo, Math.min(out, Math.floor(last / stride) + 1));
  return { lo, hi };
}

/** Whether some output window reaches outside the input along one axis (see `windowInterior`). */
export function windowLeaves(a: WindowGeometry, axis: 'h' | 'w'): boolean {
  const { lo, hi } = windowInterior(a, axis);
  return lo > 0 || hi < (axis === 'h' ? a.outHeight : a.outWidth);
}
