/**
 * Sum, Max and Min over any set of dims, and ArgMax over one dim. Each output element loops
 * over the reduced elements; when the reduced dims are the innermost ones (the usual case:
 * a softmax row, a flattened feature vector) they are contiguous and read in order.
 */
import { REDUCE_KERNELS, type ReduceKernelName, type TensorInfo } from '@gpunet/tensor';
import type { GpuBackend } from '../backend.js';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import { idiv, kernelSource, size, strides, unravel } from '../internal/index-math.js';
import { literal } from './transform.js';

const COMBINE: Record<ReduceKernelName, string> = {
  Sum: 'acc + e',
  Max: '(e > acc ? e : acc)',
  Min: '(e < acc ? e : acc)',
};

/**
 * Source of the flat input index of reduced element `r`, given the reduced dims' sizes and input
 * strides: `r` itself when those dims are the innermost block, else an unravel of `r`.
 */
function reducedOffset(
  reducedShape: number[],
  reducedStrides: number[],
  r = 'r',
  prefix = 'q',
): { lines: string; expr: string } {
  const contiguous = reducedStrides.every((s, k) => s === strides(reducedShape)[k]);
  if (contiguous) return { lines: '', expr: r };
  const lines = unravel(r, reducedShape, prefix);
  const expr = reducedStrides.map((s, k) => `${prefix}${k} * ${s}`).join(' + ');
  return { lines, expr };
}

/**
 * Reductions longer than this run in two passes: the first reduces windows of about
 * sqrt(length) elements in parallel, the second the partial results. A thread then loops at
 * most ~sqrt(length) times, within the GL loop limit (internal/loops.ts) for any tensor the
 * index limit allows, and a long reduction (a full sum, a bias gradient over N*H*W) runs on
 * many threads instead of one.
 */
export const ONE_PASS_LENGTH = 4096;

/**
 * The window of the first pass over `length` elements (0: one pass): one pass up to
 * `ONE_PASS_LENGTH`, and under the backend's loop limit (lowered by the tests).
 */
function windowOf(length: number, backend: GpuBackend): number {
  return length > Math.min(ONE_PASS_LENGTH, backend.loopLimit - 1)
    ? Math.ceil(Math.sqrt(length))
    : 0;
}

/** Sum, Max or Min of `x` over `dims`, in two passes where the reduction is long. */
function reduce(
  kernelName: ReduceKernelName,
  backend: GpuBackend,
  x: TensorInfo,
  dims: readonly number[],
): TensorInfo {
  const inStrides = strides(x.shape);
  const keptDims = x.shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const outShape = keptDims.map((d) => x.shape[d]);
  const reducedShape = dims.map((d) => x.shape[d]);
  const count = size(reducedShape);
  if (count === 0) {
    const empty =
      kernelName === 'Sum'
        ? '0'
        : literal(kernelName === 'Max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY);
    return backend.run(kernelSource([], `return ${empty};`), [], outShape, x.dtype);
  }
  const base =
    keptDims.length === 0 ? '0' : keptDims.map((d, k) => `o${k} * ${inStrides[d]}`).join(' + ');
  const offset = reducedOffset(
    reducedShape,
    dims.map((d) => inStrides[d]),
  );
  const step = [
    offset.lines,
    `const e = v[base + ${offset.expr}];`,
    `acc = ${COMBINE[kernelName]};`,
  ];
  const window = windowOf(count, backend);
  if (window === 0) {
    const body = [
      unravel('i', outShape, 'o'),
      `const base = ${base};`,
      'let acc = v[base];',
      `for (let r = 1; r < ${count}; r++) {`,
      ...step,
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['v'], body), [x], outShape, x.dtype);
  }
  // First pass: output [...outShape, chunks], chunk c reducing elements [c * window, + window).
  const chunks = Math.ceil(count / window);
  const isRagged = count % window !== 0;
  const first = reducedOffset(
    reducedShape,
    dims.map((d) => inStrides[d]),
    'from',
    'p',
  );
  const body = [
    unravel('i', [...outShape, chunks], 'o'),
    `const base = ${base};`,
    `const from = o${outShape.length} * ${window};`,
    first.lines,
    `let acc = v[base + ${first.expr}];`,
    `for (let t = 1; t < ${window}; t++) {`,
    'const r = from + t;',
    ...(isRagged ? [`if (r < ${count}) {`, ...step, '}'] : step),
    '}',
    'return acc;',
  ].join('\n');
  const partials = backend.run(kernelSource(['v'], body), [x], [...outShape, chunks], x.dtype);
  const out = reduce(kernelName, backend, partials, [outShape.length]);
  backend.disposeData(partials.dataId);
  return out;
}

export const reduceKernels: GpuKernel[] = REDUCE_KERNELS.map((kernelName) =>
  defineKernel(kernelName, ({ inputs: [x], attrs: { dims }, backend }) =>
    reduce(kernelName, backend, x, dims),
  ),
);

/**
 * Index of the first maximum along `dim`, as int32. Longer than `ONE_PASS_LENGTH`: a first pass
 * gives the index of the maximum of each window, a second the first of the windows' maxima.
 */
export const argMaxKernel = defineKernel('ArgMax', ({ inputs: [x], attrs: { dim }, backend }) => {
  const length = x.shape[dim];
  const inner = size(x.shape.slice(dim + 1));
  const outShape = x.shape.filter((_, d) => d !== dim);
  const window = windowOf(length, backend);
  if (window === 0) {
    const body = [
      `const outer = ${idiv('i', inner)};`,
      `const within = i - outer * ${inner};`,
      `const base = outer * ${length * inner} + within;`,
      'let best = 0;',
      'let bestValue = v[base];',
      `for (let j = 1; j < ${length}; j++) {`,
      `const e = v[base + j * ${inner}];`,
      'if (e > bestValue) { best = j; bestValue = e; }',
      '}',
      'return best;',
    ].join('\n');
    return backend.run(kernelSource(['v'], body), [x], outShape, 'int32');
  }
  const chunks = Math.ceil(length / window);
  const isRagged = length % window !== 0;
  // First pass, [outer, chunks, inner]: the index (along dim) of each window's first maximum.
  const compare = [
    `const e = v[base + j * ${inner}];`,
    'if (e > bestValue) { best = j; bestValue = e; }',
  ];
  const first = [
    `const outer = ${idiv('i', chunks * inner)};`,
    `const rest = i - outer * ${chunks * inner};`,
    `const c = ${idiv('rest', inner)};`,
    `const within = rest - c * ${inner};`,
    `const base = outer * ${length * inner} + within;`,
    `let best = c * ${window};`,
    `let bestValue = v[base + best * ${inner}];`,
    `for (let t = 1; t < ${window}; t++) {`,
    `const j = c * ${window} + t;`,
    ...(isRagged ? [`if (j < ${length}) {`, ...compare, '}'] : compare),
    '}',
    'return best;',
  ].join('\n');
  const outer = size(x.shape.slice(0, dim));
  const indices = backend.run(kernelSource(['v'], first), [x], [outer, chunks, inner], 'int32');
  // Second pass: the first of the windows' maxima (windows in order, so ties keep the first).
  const second = [
    `const outer = ${idiv('i', inner)};`,
    `const within = i - outer * ${inner};`,
    `const base = outer * ${length * inner} + within;`,
    `const at = outer * ${chunks * inner} + within;`,
    'let best = w[at];',
    `let bestValue = v[base + best * ${inner}];`,
    `for (let c = 1; c < ${chunks}; c++) {`,
    `const j = w[at + c * ${inner}];`,
    ...compare,
    '}',
    'return best;',
  ].join('\n');
  const out = backend.run(kernelSource(['v', 'w'], second), [x, indices], outShape, 'int32');
  backend.disposeData(indices.dataId);
  return out;
});

/** One row of `depth` per index: 1 at the index, 0 elsewhere. */
export const oneHotKernel = defineKernel(
  'OneHot',
  ({ inputs: [indices], attrs: { depth }, backend }) => {
    const body = [
      `const row = ${idiv('i', depth)};`,
      `const c = i - row * ${depth};`,
      'return v[row] === c ? 1 : 0;',
    ].join('\n');
    return backend.run(kernelSource(['v'], body), [indices], [...indices.shape, depth], 'float32');
  },
);
