/**
 * The packed BatchMatMul (webgl2): a thread computes one output texel, four consecutive columns
 * of a row, from operands read four floats per fetch (docs/kernels.md, "The packed matmul").
 *
 * On WebGL 2 a tensor a kernel wrote four outputs per thread for, or one uploaded from the host,
 * is stored four floats per RGBA texel (internal/vec4.ts): a matrix whose rows are a multiple of
 * 4 long is then, texel for texel, rows of texels, and this kernel reads it as gpu.js's
 * `ArrayTexture(4)` without a copy (`texelRows`). Other operands (a texture of one float per
 * texel, or rows of another length) are copied once into rows of texels, zeros past the row's
 * end. Per four steps of K a thread fetches one texel of op(A) (four scalars when A is
 * transposed) and four of B, 5 fetches per 16 multiply-adds, and writes its four outputs as one
 * texel: the result is stored four floats per texel too, in row-major order, with no reordering
 * pass. A linear layer's weight (`[out, in]`, read transposed in the forward pass and as is in
 * the input gradient) is read in place in both.
 */
import type { TensorInfo } from '@gpunet/tensor';
import type { Stored } from '../backend/storage.js';
import type { GpuBackend } from '../backend.js';
import { kernelSource, unravel } from '../internal/index-math.js';
import { asTexelRows, holdsTexels } from '../internal/vec4.js';

/** The sizes of a product: `batch` products of op(A) [m, k] and op(B) [k, n]. */
export interface MatMulSizes {
  batch: number;
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * The fewest output rows (M) for which an operand stored one float per texel is copied into
 * texels: below, the copy (a pass over the operand) costs about what the blocked matmul's
 * scalar reads do, and the blocked matmul is used instead. An operand already stored in texels
 * takes the packed matmul at any M (a linear layer at batch 1).
 */
export const PACKED_MATMUL_MIN_ROWS = 8;

/** Whether `x` ([batch, r, c]) can be read as rows of texels without a copy. */
function readsInPlace(backend: GpuBackend, x: TensorInfo): boolean {
  const source = backend.bufferOf(x);
  return source !== null && x.shape[2] % 4 === 0 && holdsTexels(source.value);
}

/**
 * Whether the packed matmul takes a product: on webgl2 (`packsInputs`, the GL mode whose kernels
 * take `ArrayTexture(4)` arguments) with N a multiple of 4 (each output texel is four columns of
 * one row), both operands in one texture, the texel indices within the index limit, and either
 * `PACKED_MATMUL_MIN_ROWS` output rows or B readable in place.
 */
export function takesPackedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  s: MatMulSizes,
): boolean {
  const kt = Math.ceil(s.k / 4);
  return (
    backend.packsInputs &&
    backend.blocksOutputs &&
    s.n % 4 === 0 &&
    backend.bufferOf(a) !== null &&
    backend.bufferOf(b) !== null &&
    (s.m >= PACKED_MATMUL_MIN_ROWS || readsInPlace(backend, b)) &&
    s.batch * s.m * kt <= backend.indexLimit &&
    s.batch * s.n * kt <= backend.indexLimit &&
    s.batch * s.m * s.n <= backend.indexLimit
  );
}

/**
 * `x` ([batch, r, c]) as rows of `ceil(c / 4)` texels, texel (t, i, q) holding x[t, i, 4q ..
 * 4q + 3] (zeros past c): a relabelled view of its own texture when it is stored in texels and
 * c is a multiple of 4, else a copy. Free the result with `backend.free` (a view's release
 * leaves the tensor's texture alone).
 */
function texelRows(backend: GpuBackend, x: TensorInfo): Stored {
  const source = backend.bufferOf(x);
  if (!source) throw new Error('internal: packing a tensor stored in pieces');
  const [batch, r, c] = x.shape;
  const texels = Math.ceil(c / 4);
  if (readsInPlace(backend, x)) return asTexelRows(source.value, batch * r * texels);
  const body = [
    unravel('i', [batch * r, texels], 'o'),
    `const base = o0 * ${c} + o1 * 4;`,
    ...[0, 1, 2, 3].map((j) =>
      c % 4 === 0
        ? `const p${j} = x[base + ${j}];`
        : `const p${j} = o1 * 4 + ${j} < ${c} ? x[base + ${j}] : 0;`,
    ),
    'return [p0, p1, p2, p3];',
  ].join('\n');
  return backend.launch(
    kernelSource(['x'], body),
    [source.value],
    [source.length],
    batch * r * texels * 4,
    false,
    4,
    true,
  );
}

/** op(A) op(B) through operands read in texels (see the file comment); `[batch, m, n]`. */
export function packedMatMul(
  backend: GpuBackend,
  a: TensorInfo,
  b: TensorInfo,
  s: MatMulSizes,
): TensorInfo {
  const { batch, m, k, n, transposeA, transposeB } = s;
  const kt = Math.ceil(k / 4);
  const full = Math.floor(k / 4);
  const rest = k - full * 4;
  const nt = n / 4;
  // op(A) is read as texels of A's rows, or (transposed) as scalars of A's columns.
  const aSource = backend.bufferOf(a);
  if (!aSource) throw new Error('internal: packing a tensor stored in pieces');
  const av = transposeA ? aSource.value : texelRows(backend, a);
  const bv = texelRows(backend, b);
  /** op(A)'s four terms along K at texel `q` as `x${id}` (`count` of them real). */
  const aTexel = (q: string, id: string, count: number) => {
    if (!transposeA) return `const x${id} = av[aRow + ${q}];`;
    const terms = [0, 1, 2, 3].map((p) =>
      p < count ? `av[aCol + (${q} * 4 + ${p}) * ${m}]` : '0',
    );
    return `const x${id} = [${terms.join(', ')}];`;
  };
  /** The multiply-adds of texel `q` of K (`count` of its four terms real; names end in `id`). */
  const step = (q: string, id: string, count: number) => {
    const lines = [aTexel(q, id, count)];
    if (transposeB) {
      // Output column 4c + j is row 4c + j of B, in texels along K (zeros past K).
      for (let j = 0; j < 4; j++) {
        lines.push(`const b${j}${id} = bv[bRow + ${j * kt} + ${q}];`);
        const terms = [0, 1, 2, 3].map((p) => `x${id}[${p}] * b${j}${id}[${p}]`);
        lines.push(`s${j} += ${terms.join(' + ')};`);
      }
    } else {
      // Term p of K is row 4q + p of B, whose texel o2 holds the thread's four columns.
      for (let p = 0; p < count; p++) {
        lines.push(`const b${p}${id} = bv[bCol + (${q} * 4 + ${p}) * ${nt}];`);
        for (let j = 0; j < 4; j++) lines.push(`s${j} += x${id}[${p}] * b${p}${id}[${j}];`);
      }
    }
    return lines;
  };
  const body = [
    unravel('i', [batch, m, nt], 'o'),
    // A: texel rows [batch, m, kt]; transposed, scalars [batch, k, m].
    transposeA ? `const aCol = o0 * ${k * m} + o1;` : `const aRow = (o0 * ${m} + o1) * ${kt};`,
    // B transposed: texel rows [batch, n, kt]; else texel rows [batch, k, nt].
    transposeB ? `const bRow = (o0 * ${n} + o2 * 4) * ${kt};` : `const bCol = o0 * ${k * nt} + o2;`,
    'let s0 = 0;',
    'let s1 = 0;',
    'let s2 = 0;',
    'let s3 = 0;',
    ...(full > 0 ? [`for (let q = 0; q < ${full}; q++) {`, ...step('q', '', 4), '}'] : []),
    // The last `rest` terms of K: B's rows past K are not read.
    ...(rest > 0 ? step(String(full), 'r', rest) : []),
    'return [s0, s1, s2, s3];',
  ];
  const argSizes = [
    transposeA ? aSource.length : batch * m * kt * 4,
    transposeB ? batch * n * kt * 4 : batch * k * n,
  ];
  const out = backend.launch(
    kernelSource(['av', 'bv'], body.join('\n')),
    [av, bv],
    argSizes,
    batch * m * n,
    false,
    4,
  );
  if (!transposeA) backend.free(av);
  backend.free(bv);
  return backend.adoptResult(out, [batch, m, n]);
}
