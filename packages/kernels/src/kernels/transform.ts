import type { TensorInfo } from '@gpunet/tensor';
import { asGpu, type GpuJsBackend } from '../backend.js';
import { dot, numbered, stridesOf, unravel } from '../internal/indexing.js';
import { broadcastStrides } from './elementwise.js';
import type { GpuKernel } from './types.js';

/** Gathers `x` into `shape`: output coordinates c map to input offset `sum (c_i + shift_i) * stride_i`. */
function gather(
  backend: GpuJsBackend,
  name: string,
  x: TensorInfo,
  shape: number[],
  strides: number[],
  shift: number[],
): TensorInfo {
  const offset = shift.reduce((acc, s, i) => acc + s * strides[i], 0);
  return backend.run({
    name: `${name}-${shape.length}`,
    params: ['input'],
    body: [
      unravel(shape.length, 'this.thread.x', 'c', 'd'),
      `return input[this.constants.offset + ${dot(shape.length, 'c', 's')}];`,
    ].join('\n'),
    constants: { offset, ...numbered('d', shape), ...numbered('s', strides) },
    inputs: [x],
    shape,
    dtype: x.dtype,
  });
}

export const transposeKernel: GpuKernel<'Transpose'> = {
  kernelName: 'Transpose',
  kernelFunc: ({ inputs: [x], attrs: { perm }, backend }) => {
    const strides = stridesOf(x.shape);
    return gather(
      asGpu(backend),
      'Transpose',
      x,
      perm.map((d) => x.shape[d]),
      perm.map((d) => strides[d]),
      perm.map(() => 0),
    );
  },
};

export const sliceKernel: GpuKernel<'Slice'> = {
  kernelName: 'Slice',
  kernelFunc: ({ inputs: [x], attrs: { begin, size }, backend }) =>
    gather(asGpu(backend), 'Slice', x, [...size], stridesOf(x.shape), begin),
};

export const broadcastToKernel: GpuKernel<'BroadcastTo'> = {
  kernelName: 'BroadcastTo',
  kernelFunc: ({ inputs: [x], attrs: { shape }, backend }) =>
    gather(
      asGpu(backend),
      'BroadcastTo',
      x,
      [...shape],
      broadcastStrides(x.shape, shape),
      shape.map(() => 0),
    ),
};

export const padKernel: GpuKernel<'Pad'> = {
  kernelName: 'Pad',
  kernelFunc: ({ inputs: [x], attrs: { paddings, value }, backend }) => {
    const shape = x.shape.map((d, i) => paddings[i][0] + d + paddings[i][1]);
    const rank = shape.length;
    const inside = Array.from(
      { length: rank },
      (_, d) =>
        `c${d} >= this.constants.b${d} && c${d} < this.constants.b${d} + this.constants.n${d}`,
    );
    const offset = Array.from(
      { length: rank },
      (_, d) => `(c${d} - this.constants.b${d}) * this.constants.s${d}`,
    );
    return asGpu(backend).run({
      name: `Pad-${rank}`,
      params: ['input'],
      body: [
        unravel(rank, 'this.thread.x', 'c', 'd'),
        `if (${inside.join(' && ') || 'true'}) { return input[${offset.join(' + ') || '0'}]; }`,
        'return this.constants.value;',
      ].join('\n'),
      constants: {
        value,
        ...numbered('d', shape),
        ...numbered(
          'b',
          paddings.map(([before]) => before),
        ),
        ...numbered('n', x.shape),
        ...numbered('s', stridesOf(x.shape)),
      },
      inputs: [x],
      shape,
      dtype: x.dtype,
    });
  },
};

/** Two tensors joined along a dim, seen as [outer, length, inner] blocks. */
function concatPair(backend: GpuJsBackend, a: TensorInfo, b: TensorInfo, dim: number): TensorInfo {
  const shape = [...a.shape];
  shape[dim] = a.shape[dim] + b.shape[dim];
  const inner = a.shape.slice(dim + 1).reduce((p, d) => p * d, 1);
  return backend.run({
    name: 'Concat',
    params: ['first', 'second'],
    body: [
      'const i = this.thread.x % this.constants.inner;',
      'const j = Math.floor(this.thread.x / this.constants.inner) % this.constants.total;',
      'const o = Math.floor(this.thread.x / (this.constants.inner * this.constants.total));',
      'if (j < this.constants.lengthA) { return first[(o * this.constants.lengthA + j) * this.constants.inner + i]; }',
      'return second[(o * this.constants.lengthB + j - this.constants.lengthA) * this.constants.inner + i];',
    ].join('\n'),
    constants: { inner, total: shape[dim], lengthA: a.shape[dim], lengthB: b.shape[dim] },
    inputs: [a, b],
    shape,
    dtype: a.dtype,
  });
}

export const concatKernel: GpuKernel<'Concat'> = {
  kernelName: 'Concat',
  kernelFunc: ({ inputs, attrs: { dim }, backend }) => {
    const gpu = asGpu(backend);
    // Pairwise from the left; the intermediate joins are freed as soon as they are consumed.
    let joined = concatPair(gpu, inputs[0], inputs[1], dim);
    for (const next of inputs.slice(2)) {
      const previous = joined;
      joined = concatPair(gpu, previous, next, dim);
      gpu.disposeData(previous.dataId);
    }
    return joined;
  },
};
