/**
 * BatchMatMul: [B, M, K] x [B, K, N] -> [B, M, N], either side transposed in its last two dims.
 *
 * On webgpu and webgl2 a thread computes four neighbouring outputs (`blockedMatMul`, below; on
 * webgpu a 2x2 block, `pairBlockedMatMul`, when op(A) has two rows or more). On
 * the other modes gpu.js gives each thread one output value, so the blocking available is along K: the inner
 * loop is unrolled four wide into four independent accumulators, which lets cpu and webasm
 * overlap the multiply-adds and the GL compilers schedule them, and halves the loop overhead.
 * The four partial sums are added at the end, so the summation order differs from the
 * reference's sequential one by a few ulps per term (covered by the conformance tolerances).
 */
import type { TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { defineKernel } from '../internal/define.js';
import { idiv, kernelSource, unravel } from '../internal/index-math.js';
import { packedMatMul, takesPackedMatMul } from './matmul-packed.js';

/** Source of a dot product of length `k` between `a[aBase + p * aStep]` and `b[bBase + p * bStep]`. */
export function dotSource(k: number, aStep: number, bStep: number): string {
  const unrolled = k - (k % 4);
  const lines = ['let s0 = 0;', 'let s1 = 0;', 'let s2 = 0;', 'let s3 = 0;'];
  if (unrolled > 0) {
    lines.push(
      `for (let p = 0; p < ${unrolled}; p += 4) {`,
      `const ai = aBase + p * ${aStep};`,
      `const bi = bBase + p * ${bStep};`,
      's0 += a[ai] * b[bi];',
      `s1 += a[ai + ${aStep}] * b[bi + ${bStep}];`,
      `s2 += a[ai + ${2 * aStep}] * b[bi + ${2 * bStep}];`,
      `s3 += a[ai + ${3 * aStep}] * b[bi + ${3 * bStep}];`,
      '}',
    );
  }
  for (let p = unrolled; p < k; p++)
    lines.push(`s0 += a[aBase + ${p * aStep}] * b[bBase + ${p * bStep}];`);
  lines.push('return (s0 + s1) + (s2 + s3);');
  return lines.join('\n');
}

/**
 * The shortest K that takes `pairBlockedMatMul`: its reordering launch reads and writes each
 * output once, which a K of a few steps does not repay (a linear layer's weight gradient at
 * batch 16 sums over K = 16 for 38M outputs).
 */
const PAIR_MIN_K = 64;

export const batchMatMulKernel = defineKernel(
  'BatchMatMul',
  ({ inputs: [a, b], attrs: { transposeA, transposeB }, backend }) => {
    const [batch, ra, ca] = a.shape;
    const [, rb, cb] = b.shape;
    const m = transposeA ? ca : ra;
    const k = transposeA ? ra : ca;
    const n = transposeB ? rb : cb;
    const sizes = { batch, m, k, n, transposeA, transposeB };
    if (takesPackedMatMul(backend, a, b, sizes)) return packedMatMul(backend, a, b, sizes);
    if (
      backend.blocksRowPairs &&
      m >= 2 &&
      n >= 2 &&
      k >= PAIR_MIN_K &&
      batch * Math.ceil(m / 2) * Math.ceil(n / 2) * 4 <= backend.indexLimit
    )
      return pairBlockedMatMul(backend, a, b, { transposeA, transposeB });
    if (backend.blocksOutputs && batch * m * Math.ceil(n / 4) * 4 <= backend.indexLimit)
      return blockedMatMul(backend, a, b, { transposeA, transposeB }, n);
    // Element (row, p) of op(A) sits at row * ca + p, or p * ca + row when transposed.
    const aRow = transposeA ? 'row' : `row * ${ca}`;
    const aStep = transposeA ? ca : 1;
    const bCol = transposeB ? `col * ${cb}` : 'col';
    const bStep = transposeB ? 1 : cb;
    // A coordinate whose extent is 1 is the literal 0, not a function of the thread: on webasm
    // a read that depends on no thread is one load shared by the four SIMD lanes instead of a
    // four-load gather. For a linear layer at batch 1 (m = 1) every read of the input row is.
    const body = [
      batch === 1 ? 'const t = 0;' : `const t = ${idiv('i', m * n)};`,
      batch === 1 ? 'const rc = i;' : `const rc = i - t * ${m * n};`,
      m === 1 ? 'const row = 0;' : n === 1 ? 'const row = rc;' : `const row = ${idiv('rc', n)};`,
      n === 1 ? 'const col = 0;' : m === 1 ? 'const col = rc;' : `const col = rc - row * ${n};`,
      `const aBase = t * ${ra * ca} + ${aRow};`,
      `const bBase = t * ${rb * cb} + ${bCol};`,
      dotSource(k, aStep, bStep),
    ].join('\n');
    return backend.run(kernelSource(['a', 'b'], body), [a, b], [batch, m, n]);
  },
);

/**
 * BatchMatMul with four outputs per thread (webgpu, webgl2): thread i computes columns
 * 4q..4q+3 of one output row, so each element of A it reads serves four products (and, for a
 * linear layer at batch 1, A's row is the same for every thread). Each output is one
 * accumulator summed in order over K, unrolled four wide. Rows are padded to a multiple of 4
 * columns and cut back when N is not one (the padding columns' reads are clamped and unused).
 */
function blockedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  { transposeA, transposeB }: { transposeA: boolean; transposeB: boolean },
  n: number,
): TensorInfo {
  const [batch, ra, ca] = a.shape;
  const [, rb, cb] = b.shape;
  const m = transposeA ? ca : ra;
  const k = transposeA ? ra : ca;
  const quads = Math.ceil(n / 4);
  const padded = quads * 4;
  const aRow = transposeA ? 'row' : `row * ${ca}`;
  const aStep = transposeA ? ca : 1;
  // Column col + j of op(B) sits j * colStep after column col.
  const bCol = transposeB ? `col * ${cb}` : 'col';
  const bStep = transposeB ? 1 : cb;
  const colStep = transposeB ? cb : 1;
  const lines = [
    batch === 1 ? 'const t = 0;' : `const t = ${idiv('i', m * quads)};`,
    batch === 1 ? 'const rq = i;' : `const rq = i - t * ${m * quads};`,
    m === 1
      ? 'const row = 0;'
      : quads === 1
        ? 'const row = rq;'
        : `const row = ${idiv('rq', quads)};`,
    quads === 1
      ? 'const col = 0;'
      : m === 1
        ? 'const col = rq * 4;'
        : `const col = (rq - row * ${quads}) * 4;`,
    `const aBase = t * ${ra * ca} + ${aRow};`,
    `const bBase = t * ${rb * cb} + ${bCol};`,
    'let a0 = 0;',
    'let a1 = 0;',
    'let a2 = 0;',
    'let a3 = 0;',
  ];
  const plus = (base: string, offset: number) => (offset === 0 ? base : `${base} + ${offset}`);
  const step = (ai: string, bi: string, p: number) => {
    const av = `av${p}`;
    const out = [`const ${av} = a[${plus(ai, p * aStep)}];`];
    for (let j = 0; j < 4; j++)
      out.push(`a${j} += ${av} * b[${plus(bi, p * bStep + j * colStep)}];`);
    return out;
  };
  const unrolled = k - (k % 4);
  if (unrolled > 0) {
    lines.push(
      `for (let p = 0; p < ${unrolled}; p += 4) {`,
      `const ai = aBase + p * ${aStep};`,
      `const bi = bBase + p * ${bStep};`,
      ...[0, 1, 2, 3].flatMap((p) => step('ai', 'bi', p)),
      '}',
    );
  }
  for (let p = unrolled; p < k; p++) lines.push(...step('aBase', 'bBase', p));
  lines.push('return [a0, a1, a2, a3];');
  const blocked = backend.run(
    kernelSource(['a', 'b'], lines.join('\n')),
    [a, b],
    [batch, m, padded],
    'float32',
    { components: 4 },
  );
  if (padded === n) return { ...blocked, shape: [batch, m, n] };
  const rows = batch * m;
  const body = [unravel('i', [rows, n], 'o'), `return v[o0 * ${padded} + o1];`].join('\n');
  const out = backend.run(kernelSource(['v'], body), [blocked], [batch, m, n]);
  backend.disposeData(blocked.dataId);
  return out;
}

/**
 * BatchMatMul with a 2x2 block of outputs per thread (webgpu, two rows or more): thread i
 * computes rows 2r, 2r + 1 and columns 2c, 2c + 1, so each step along K reads two values of A
 * and two of B for four products, where a 1x4 block (`blockedMatMul`) reads one and four: a
 * fifth fewer reads (the linear layers' data gradient and forward pass at batch 16). An odd last
 * row or column is computed twice (its reads clamped to the last one) and dropped. gpu.js
 * writes a thread's four values together, so the result is laid out in 2x2 blocks and put back
 * in row-major order by one gather launch.
 */
function pairBlockedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  { transposeA, transposeB }: { transposeA: boolean; transposeB: boolean },
): TensorInfo {
  const [batch, ra, ca] = a.shape;
  const [, rb, cb] = b.shape;
  const m = transposeA ? ca : ra;
  const k = transposeA ? ra : ca;
  const n = transposeB ? rb : cb;
  const mp = Math.ceil(m / 2);
  const np = Math.ceil(n / 2);
  // Element (row, p) of op(A) sits at row * rowStep + p * aStep; (p, col) of op(B) at
  // col * colStep + p * bStep.
  const rowStep = transposeA ? 1 : ca;
  const aStep = transposeA ? ca : 1;
  const colStep = transposeB ? cb : 1;
  const bStep = transposeB ? 1 : cb;
  const lines = [
    unravel('i', [batch, mp, np], 'o'),
    'const r0 = o1 * 2;',
    `const r1 = Math.min(r0 + 1, ${m - 1});`,
    'const c0 = o2 * 2;',
    `const c1 = Math.min(c0 + 1, ${n - 1});`,
    `const a0 = o0 * ${ra * ca} + r0 * ${rowStep};`,
    `const a1 = o0 * ${ra * ca} + r1 * ${rowStep};`,
    `const b0 = o0 * ${rb * cb} + c0 * ${colStep};`,
    `const b1 = o0 * ${rb * cb} + c1 * ${colStep};`,
    'let s00 = 0;',
    'let s01 = 0;',
    'let s10 = 0;',
    'let s11 = 0;',
  ];
  const plus = (base: string, offset: number) => (offset === 0 ? base : `${base} + ${offset}`);
  const step = (pa: string, pb: string, p: number) => [
    `const x0${p} = a[${plus(`a0${pa}`, p * aStep)}];`,
    `const x1${p} = a[${plus(`a1${pa}`, p * aStep)}];`,
    `const y0${p} = b[${plus(`b0${pb}`, p * bStep)}];`,
    `const y1${p} = b[${plus(`b1${pb}`, p * bStep)}];`,
    `s00 += x0${p} * y0${p};`,
    `s01 += x0${p} * y1${p};`,
    `s10 += x1${p} * y0${p};`,
    `s11 += x1${p} * y1${p};`,
  ];
  const unrolled = k - (k % 4);
  if (unrolled > 0) {
    lines.push(
      `for (let p = 0; p < ${unrolled}; p += 4) {`,
      `const a0p = a0 + p * ${aStep};`,
      `const a1p = a1 + p * ${aStep};`,
      `const b0p = b0 + p * ${bStep};`,
      `const b1p = b1 + p * ${bStep};`,
      ...[0, 1, 2, 3].flatMap((p) => step('p', 'p', p)),
      '}',
    );
  }
  for (let p = unrolled; p < k; p++) lines.push(...step('', '', p));
  lines.push('return [s00, s01, s10, s11];');
  const blocked = backend.run(
    kernelSource(['a', 'b'], lines.join('\n')),
    [a, b],
    [batch, mp, np * 4],
    'float32',
    { components: 4 },
  );
  // Output (t, row, col) is value 2 * (row mod 2) + (col mod 2) of block (t, row / 2, col / 2).
  const body = [
    unravel('i', [batch, m, n], 'o'),
    `const rp = ${idiv('o1', 2)};`,
    `const cp = ${idiv('o2', 2)};`,
    `return v[((o0 * ${mp} + rp) * ${np} + cp) * 4 + (o1 - rp * 2) * 2 + (o2 - cp * 2)];`,
  ].join('\n');
  const out = backend.run(kernelSource(['v'], body), [blocked], [batch, m, n]);
  backend.disposeData(blocked.dataId);
  return out;
}
