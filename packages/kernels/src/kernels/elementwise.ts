import {
  BINARY_KERNELS,
  type BinaryKernelName,
  broadcastShapes,
  type KernelFunc,
  UNARY_KERNELS,
  type UnaryKernelName,
} from '@gpunet/tensor';
import { asGpu } from '../backend.js';
import { dot, numbered, stridesOf, unravel } from '../internal/indexing.js';
import type { GpuKernel } from './types.js';

/** Each unary kernel's math on `x`, as gpu.js source: the table the family is generated from. */
const UNARY_SOURCE: Record<UnaryKernelName, string> = {
  Neg: '-x',
  Exp: 'Math.exp(x)',
  Log: 'Math.log(x)',
  Sqrt: 'Math.sqrt(x)',
  Abs: 'Math.abs(x)',
  Sign: 'x > 0 ? 1 : (x < 0 ? -1 : 0)',
  Relu: 'x < 0 ? 0 : x',
  Step: 'x > 0 ? 1 : 0',
  Sigmoid: '1 / (1 + Math.exp(-x))',
  Tanh: 'Math.tanh(x)',
};

/** Each binary kernel's math on `a` and `b`; comparisons give 1 or 0. */
const BINARY_SOURCE: Record<BinaryKernelName, string> = {
  Add: 'a + b',
  Sub: 'a - b',
  Mul: 'a * b',
  Div: 'a / b',
  Pow: 'Math.pow(a, b)',
  Maximum: 'Math.max(a, b)',
  Minimum: 'Math.min(a, b)',
  Equal: 'a === b ? 1 : 0',
  Greater: 'a > b ? 1 : 0',
  Less: 'a < b ? 1 : 0',
};

const COMPARISONS = new Set<BinaryKernelName>(['Equal', 'Greater', 'Less']);

export const unaryKernels: GpuKernel[] = UNARY_KERNELS.map((kernelName) => ({
  kernelName,
  kernelFunc: ({ inputs: [x], backend }) =>
    asGpu(backend).run({
      name: kernelName,
      params: ['input'],
      body: `const x = input[this.thread.x];\nreturn ${UNARY_SOURCE[kernelName]};`,
      constants: {},
      inputs: [x],
      shape: x.shape,
      dtype: x.dtype,
    }),
}));

/** Strides of `shape` read as `outShape`: 0 along broadcast and leading dims. */
export function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const lead = outShape.length - shape.length;
  const strides = stridesOf(shape);
  return outShape.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : strides[i - lead]));
}

export const binaryKernels: GpuKernel[] = BINARY_KERNELS.map((kernelName) => {
  const kernelFunc: KernelFunc<Record<string, never>> = ({ inputs: [a, b], backend }) => {
    const shape = broadcastShapes(kernelName, a.shape, b.shape);
    return asGpu(backend).run({
      name: kernelName,
      params: ['left', 'right'],
      body: [
        unravel(shape.length, 'this.thread.x', 'c', 'd'),
        `const a = left[${dot(shape.length, 'c', 'as')}];`,
        `const b = right[${dot(shape.length, 'c', 'bs')}];`,
        `return ${BINARY_SOURCE[kernelName]};`,
      ].join('\n'),
      constants: {
        ...numbered('d', shape),
        ...numbered('as', broadcastStrides(a.shape, shape)),
        ...numbered('bs', broadcastStrides(b.shape, shape)),
      },
      inputs: [a, b],
      shape,
      dtype: COMPARISONS.has(kernelName) ? 'float32' : a.dtype,
    });
  };
  return { kernelName, kernelFunc } as GpuKernel;
});

export const castKernel: GpuKernel<'Cast'> = {
  kernelName: 'Cast',
  kernelFunc: ({ inputs: [x], attrs: { dtype }, backend }) =>
    asGpu(backend).run({
      name: `Cast-${dtype}`,
      params: ['input'],
      // Toward zero, as PyTorch converts float to int.
      body:
        dtype === 'int32'
          ? 'const x = input[this.thread.x];\nreturn x < 0 ? Math.ceil(x) : Math.floor(x);'
          : 'return input[this.thread.x];',
      constants: {},
      inputs: [x],
      shape: x.shape,
      dtype,
    }),
};

export const oneHotKernel: GpuKernel<'OneHot'> = {
  kernelName: 'OneHot',
  kernelFunc: ({ inputs: [indices], attrs: { depth }, backend }) =>
    asGpu(backend).run({
      name: 'OneHot',
      params: ['indices'],
      // An index outside [0, depth) gives a zero row (a GPU kernel cannot throw).
      body: 'const i = Math.floor(this.thread.x / this.constants.depth);\nreturn indices[i] === this.thread.x % this.constants.depth ? 1 : 0;',
      constants: { depth },
      inputs: [indices],
      shape: [...indices.shape, depth],
    }),
};
