import type { KernelConfig } from '../../backend.js';
import { sizeOf, stridesOf } from '../../internal/shape.js';
import { REDUCE_KERNELS, type ReduceKernelName, withoutDims } from '../../kernel-names.js';
import type { Shape } from '../../types.js';
import { asReference } from './backend.js';

/** For each input element, the flat index of the output element it reduces into. */
function reducedIndices(
  shape: Shape,
  dims: readonly number[],
): { outShape: Shape; indices: Int32Array } {
  const outShape = withoutDims(shape, dims);
  const outStrides = stridesOf(outShape);
  const strides: number[] = [];
  let k = 0;
  shape.forEach((_, i) => {
    strides.push(dims.includes(i) ? 0 : outStrides[k++]);
  });
  const size = sizeOf(shape);
  const indices = new Int32Array(size);
  const counter = new Array<number>(shape.length).fill(0);
  let outIndex = 0;
  for (let i = 0; i < size; i++) {
    indices[i] = outIndex;
    for (let d = shape.length - 1; d >= 0; d--) {
      counter[d]++;
      outIndex += strides[d];
      if (counter[d] < shape[d]) break;
      outIndex -= strides[d] * counter[d];
      counter[d] = 0;
    }
  }
  return { outShape, indices };
}

const INITIAL: Record<ReduceKernelName, number> = { Sum: 0, Max: -Infinity, Min: Infinity };
const COMBINE: Record<ReduceKernelName, (acc: number, v: number) => number> = {
  Sum: (acc, v) => acc + v,
  // NaN wins, as in PyTorch.
  Max: (acc, v) => (v > acc || Number.isNaN(v) ? v : acc),
  Min: (acc, v) => (v < acc || Number.isNaN(v) ? v : acc),
};

export const reduceKernels: KernelConfig<ReduceKernelName>[] = REDUCE_KERNELS.map((kernelName) => ({
  kernelName,
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { dims }, backend }) => {
    const ref = asReference(backend);
    const { outShape, indices } = reducedIndices(x.shape, dims);
    const acc = new Float64Array(sizeOf(outShape)).fill(INITIAL[kernelName]);
    const values = ref.values(x.dataId);
    const combine = COMBINE[kernelName];
    for (let i = 0; i < values.length; i++) acc[indices[i]] = combine(acc[indices[i]], values[i]);
    return ref.output(acc, outShape, x.dtype);
  },
}));

export const argMaxKernel: KernelConfig<'ArgMax'> = {
  kernelName: 'ArgMax',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { dim }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const outer = sizeOf(x.shape.slice(0, dim));
    const length = x.shape[dim];
    const inner = sizeOf(x.shape.slice(dim + 1));
    const out = new Int32Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        let best = 0;
        let bestValue = values[o * length * inner + i];
        for (let j = 1; j < length; j++) {
          const v = values[(o * length + j) * inner + i];
          if (v > bestValue || (Number.isNaN(v) && !Number.isNaN(bestValue))) {
            best = j;
            bestValue = v;
          }
        }
        out[o * inner + i] = best;
      }
    }
    return ref.output(
      out,
      x.shape.filter((_, i) => i !== dim),
      'int32',
    );
  },
};
