/**
 * BatchMatMul: [B, M, K] x [B, K, N] -> [B, M, N], either side transposed in its last two dims.
 *
 * On webgpu and webgl2 a thread computes four neighbouring outputs (`blockedMatMul`, below). On
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
