/**
 * BatchMatMul: [B, M, K] x [B, K, N] -> [B, M, N], either side transposed in its last two dims.
 *
 * gpu.js gives each thread one output value, so the blocking available is along K: the inner
 * loop is unrolled four wide into four independent accumulators, which lets cpu and webasm
 * overlap the multiply-adds and the GL compilers schedule them, and halves the loop overhead.
 * The four partial sums are added at the end, so the summation order differs from the
 * reference's sequential one by a few ulps per term (covered by the conformance tolerances).
 */
import { defineKernel } from '../internal/define.js';
import { idiv, kernelSource } from '../internal/index-math.js';

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
