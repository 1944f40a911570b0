/**
 * The packed BatchMatMul (webgl2): both operands packed along K as RGBA texels, four rows of
 * the output per fragment, as TF.js's `MatMulPackedProgram` packs its operands
 * (docs/kernels.md, "The packed matmul").
 *
 * On WebGL 2 a flat tensor is read one float per fetch (`getMemoryOptimized32`), so the blocked
 * matmul (four columns of a row per thread, matmul.ts) fetches 5 floats, one at a time, per 4
 * multiply-adds. Here one launch packs op(A) and one packs op(B)ᵀ as rows of texels of four
 * consecutive elements along K (gpu.js `ArrayTexture(4)`), and a thread computes the outputs
 * `(4r .. 4r + 3, col)` of one column: per four steps of K it fetches four texels of A and one
 * of B, 5 fetches per 16 multiply-adds, and each texel of B (the weight of a linear layer)
 * serves four rows. The four outputs of a thread are a column, not a row, so the result is
 * written in blocks `[batch, rows / 4, N, 4]` and one small pass puts it in row-major order.
 */
import type { TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { idiv, kernelSource, unravel } from '../internal/index-math.js';

/**
 * The fewest output rows (M) for which the packed matmul is used: below, most of a thread's four
 * rows would be padding (a linear layer at batch 1 has one), and the blocked matmul, which
 * blocks along N, is used instead.
 */
export const PACKED_MATMUL_MIN_ROWS = 8;

/**
 * The shortest K for which the packed matmul is used: its packing and reordering passes cost a
 * pass over the operands and the output, which a product over a short K (a linear layer's
 * weight gradient at batch 1: K = 1, an output of the weight's size) does not win back.
 */
export const PACKED_MATMUL_MIN_K = 8;

/** The sizes of a product: `batch` products of op(A) [m, k] and op(B) [k, n]. */
export interface MatMulSizes {
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Texels per packed row (along K) and rows of the packed A (a multiple of 4). */
function packedGeometry(s: MatMulSizes) {
  return { texels: Math.ceil(s.k / 4), rows: Math.ceil(s.m / 4) * 4 };
}

/**
 * Whether the packed matmul takes a product: on webgl2 (the GL mode whose kernels take
 * `ArrayTexture(4)` arguments), with at least `PACKED_MATMUL_MIN_ROWS` output rows and
 * `PACKED_MATMUL_MIN_K` terms per output, both
 * operands in one texture, and the packed copies and the blocked output within the index limit.
 */
export function takesPackedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  s: MatMulSizes,
): boolean {
  const { texels, rows } = packedGeometry(s);
  return (
    backend.packsInputs &&
    backend.blocksOutputs &&
    s.m >= PACKED_MATMUL_MIN_ROWS &&
    s.k >= PACKED_MATMUL_MIN_K &&
    backend.bufferOf(a) !== null &&
    backend.bufferOf(b) !== null &&
    s.batch * rows * texels * 4 <= backend.indexLimit &&
    s.batch * s.n * texels * 4 <= backend.indexLimit &&
    s.batch * rows * s.n <= backend.indexLimit
  );
}

/**
 * Packs the matrices op(X) `[rows, k]` of a batch (X is `[batch, R, C]`, op(X) = X or its
 * transpose) as `padRows` rows of `texels` RGBA texels: texel (t, r, q) holds op(X)[t, r, 4q ..
 * 4q + 3], zeros past K and in the rows from `rows` to `padRows`. Returns gpu.js's
 * `ArrayTexture(4)` (no tensor; free it with `backend.free`).
 */
function packAlongK(
  backend: GpuBackend,
  x: TensorInfo,
  transposed: boolean,
  rows: number,
  padRows: number,
  k: number,
  texels: number,
) {
  const source = backend.bufferOf(x);
  if (!source) throw new Error('internal: packing a tensor stored in pieces');
  const [batch, r, c] = x.shape;
  // Element (row, p) of op(X) in matrix t.
  const at = (p: string) => (transposed ? `base + (${p}) * ${c} + o1` : `base + o1 * ${c} + ${p}`);
  const body = [
    unravel('i', [batch, padRows, texels], 'o'),
    `const base = o0 * ${r * c};`,
    `const inRow = o1 < ${rows};`,
    ...[0, 1, 2, 3].map(
      (j) => `const p${j} = inRow && o2 * 4 + ${j} < ${k} ? x[${at(`o2 * 4 + ${j}`)}] : 0;`,
    ),
    'return [p0, p1, p2, p3];',
  ].join('\n');
  return backend.launch(
    kernelSource(['x'], body),
    [source.value],
    [source.length],
    batch * padRows * texels * 4,
    false,
    4,
    true,
  );
}

/** op(A) op(B) through packed operands (see the file comment); `[batch, m, n]`. */
export function packedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  s: MatMulSizes,
): TensorInfo {
  const { texels, rows } = packedGeometry(s);
  const quads = rows / 4;
  const ap = packAlongK(backend, a, s.transposeA, s.m, rows, s.k, texels);
  // op(B)ᵀ is [n, k]: B itself when transposed, else B's transpose.
  const bp = packAlongK(backend, b, !s.transposeB, s.n, s.n, s.k, texels);
  const dot = (j: number) =>
    `a${j} += x${j}[0] * bv[0] + x${j}[1] * bv[1] + x${j}[2] * bv[2] + x${j}[3] * bv[3];`;
  const body = [
    unravel('i', [s.batch, quads, s.n], 'o'),
    `const ar = (o0 * ${rows} + o1 * 4) * ${texels};`,
    `const br = (o0 * ${s.n} + o2) * ${texels};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
    `for (let q = 0; q < ${texels}; q++) {`,
    'const bv = bp[br + q];',
    ...[0, 1, 2, 3].map((j) => `const x${j} = ap[ar + ${j * texels} + q];`),
    ...[0, 1, 2, 3].map(dot),
    '}',
    'return [a0, a1, a2, a3];',
  ].join('\n');
  const blockedShape = [s.batch, quads, s.n, 4];
  const out = backend.launch(
    kernelSource(['ap', 'bp'], body),
    [ap, bp],
    [s.batch * rows * texels * 4, s.batch * s.n * texels * 4],
    s.batch * rows * s.n,
    false,
    4,
  );
  backend.free(ap);
  backend.free(bp);
  const blocked = backend.adoptResult(out, blockedShape);
  // Row-major order: output (t, row, col) is element 4 * ((t * quads + row / 4) * n + col) +
  // row % 4 of the blocks.
  const order = [
    unravel('i', [s.batch, s.m, s.n], 'o'),
    `const rq = ${idiv('o1', 4)};`,
    `return v[((o0 * ${quads} + rq) * ${s.n} + o2) * 4 + o1 - rq * 4];`,
  ].join('\n');
  const result = backend.run(kernelSource(['v'], order), [blocked], [s.batch, s.m, s.n]);
  backend.disposeData(blocked.dataId);
  return result;
}
