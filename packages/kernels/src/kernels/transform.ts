/**
 * Data movement: Transpose, Slice, Pad, Flip, BroadcastTo and Concat. Each is a gather: every output
 * element computes where it comes from.
 */
import { defineKernel, type GpuKernel } from '../internal/define.js';
import {
  broadcastIndex,
  idiv,
  kernelSource,
  ravel,
  size,
  strides,
  unravel,
} from '../internal/index-math.js';

export const transposeKernel = defineKernel(
  'Transpose',
  ({ inputs: [x], attrs: { perm }, backend }) => {
    const outShape = perm.map((d) => x.shape[d]);
    const inStrides = strides(x.shape);
    const src = perm.map((d, k) => `o${k} * ${inStrides[d]}`).join(' + ') || '0';
    const body = `${unravel('i', outShape, 'o')}\nreturn v[${src}];`;
    return backend.run(kernelSource(['v'], body), [x], outShape, x.dtype);
  },
);

export const sliceKernel = defineKernel(
  'Slice',
  ({ inputs: [x], attrs: { begin, size: sliceSize }, backend }) => {
    const src = ravel(
      sliceSize.map((_, d) => `o${d} + ${begin[d]}`),
      x.shape,
    );
    const body = `${unravel('i', sliceSize, 'o')}\nreturn v[${src}];`;
    return backend.run(kernelSource(['v'], body), [x], sliceSize, x.dtype);
  },
);

export const padKernel = defineKernel(
  'Pad',
  ({ inputs: [x], attrs: { paddings, value }, backend }) => {
    const outShape = x.shape.map((d, k) => paddings[k][0] + d + paddings[k][1]);
    const inside = x.shape
      .map((d, k) => `o${k} >= ${paddings[k][0]} && o${k} < ${paddings[k][0] + d}`)
      .join(' && ');
    const src = ravel(
      x.shape.map((_, k) => `o${k} - ${paddings[k][0]}`),
      x.shape,
    );
    const body = [
      unravel('i', outShape, 'o'),
      size(x.shape) === 0
        ? `return ${literal(value)};`
        : `if (${inside || 'true'}) { return v[${src}]; }`,
      `return ${literal(value)};`,
    ].join('\n');
    return backend.run(
      kernelSource(size(x.shape) === 0 ? [] : ['v'], body),
      size(x.shape) === 0 ? [] : [x],
      outShape,
      x.dtype,
    );
  },
);

export const flipKernel = defineKernel('Flip', ({ inputs: [x], attrs: { dims }, backend }) => {
  const src = ravel(
    x.shape.map((d, k) => (dims.includes(k) ? `${d - 1} - o${k}` : `o${k}`)),
    x.shape,
  );
  const body = `${unravel('i', x.shape, 'o')}\nreturn v[${src}];`;
  return backend.run(kernelSource(['v'], body), [x], x.shape, x.dtype);
});

export const broadcastToKernel = defineKernel(
  'BroadcastTo',
  ({ inputs: [x], attrs: { shape }, backend }) => {
    const body = `${unravel('i', shape, 'o')}\nreturn v[${broadcastIndex(x.shape, shape.length, 'o')}];`;
    return backend.run(kernelSource(['v'], body), [x], shape, x.dtype);
  },
);

/**
 * Concatenation as one kernel with one argument per input; the coordinate along `dim` picks
 * the argument. gpu.js kernels take a fixed argument list, so each input count compiles its own.
 */
export const concatKernel = defineKernel('Concat', ({ inputs, attrs: { dim }, backend }) => {
  const parts = inputs.filter((t) => size(t.shape) > 0);
  const outShape = [...inputs[0].shape];
  outShape[dim] = inputs.reduce((total, t) => total + t.shape[dim], 0);
  const inner = size(outShape.slice(dim + 1));
  const outDim = outShape[dim];
  const lines = [
    `const outer = ${idiv('i', outDim * inner)};`,
    `const rest = i - outer * ${outDim * inner};`,
  ];
  let start = 0;
  parts.forEach((t, k) => {
    const block = t.shape[dim] * inner;
    const read = `return v${k}[outer * ${block} + rest - ${start * inner}];`;
    lines.push(
      k === parts.length - 1 ? read : `if (rest < ${(start + t.shape[dim]) * inner}) { ${read} }`,
    );
    start += t.shape[dim];
  });
  if (parts.length === 0) lines.push('return 0;');
  return backend.run(
    kernelSource(
      parts.map((_, k) => `v${k}`),
      lines.join('\n'),
    ),
    parts,
    outShape,
    inputs[0].dtype,
  );
});

/**
 * A number as a gpu.js literal (floats keep a decimal point so GLSL types them as float).
 * NaN and the infinities are computed at run time from the thread index: WGSL folds constant
 * expressions at compile time and rejects `-1.0 / 0.0` and `sqrt(-1.0)` there.
 */
export function literal(value: number): string {
  if (Number.isNaN(value)) return 'Math.sqrt(this.thread.x * 0.0 - 1.0)';
  if (!Number.isFinite(value))
    return value > 0 ? '(1.0 / (this.thread.x * 0.0))' : '(-1.0 / (this.thread.x * 0.0))';
  return Number.isInteger(value) ? `${value}.0` : `${value}`;
}

export const transformKernels: GpuKernel[] = [
  transposeKernel,
  sliceKernel,
  padKernel,
  flipKernel,
  broadcastToKernel,
  concatKernel,
];
