/**
 * Sum, Max and Min over any set of dims, and ArgMax over one dim. Each output element loops
 * over the reduced elements; when the reduced dims are the innermost ones (the usual case:
 * a softmax row, a flattened feature vector) they are contiguous and read in order.
 */
import { REDUCE_KERNELS, type ReduceKernelName } from '@gpunet/tensor';
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
): { lines: string; expr: string } {
  const contiguous = reducedStrides.every((s, k) => s === strides(reducedShape)[k]);
  if (contiguous) return { lines: '', expr: 'r' };
  const lines = unravel('r', reducedShape, 'q');
  const expr = reducedStrides.map((s, k) => `q${k} * ${s}`).join(' + ');
  return { lines, expr };
}

export const reduceKernels: GpuKernel[] = REDUCE_KERNELS.map((kernelName) =>
  defineKernel(kernelName, ({ inputs: [x], attrs: { dims }, backend }) => {
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
    const body = [
      unravel('i', outShape, 'o'),
      `const base = ${base};`,
      'let acc = v[base];',
      `for (let r = 1; r < ${count}; r++) {`,
      offset.lines,
      `const e = v[base + ${offset.expr}];`,
      `acc = ${COMBINE[kernelName]};`,
      '}',
      'return acc;',
    ].join('\n');
    return backend.run(kernelSource(['v'], body), [x], outShape, x.dtype);
  }),
);

/** Index of the first maximum along `dim`, as int32. */
export const argMaxKernel = defineKernel('ArgMax', ({ inputs: [x], attrs: { dim }, backend }) => {
  const length = x.shape[dim];
  const inner = size(x.shape.slice(dim + 1));
  const outShape = x.shape.filter((_, d) => d !== dim);
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
