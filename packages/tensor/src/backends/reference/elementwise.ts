import type { KernelConfig } from '../../backend.js';
import { broadcastShapes, sizeOf, stridesOf } from '../../internal/shape.js';
import {
  BINARY_KERNELS,
  type BinaryKernelName,
  UNARY_KERNELS,
  type UnaryKernelName,
} from '../../kernel-names.js';
import type { Shape } from '../../types.js';
import { asReference } from './backend.js';

/** The math of each unary kernel, one line each: the table the family is generated from. */
export const UNARY_MATH: Record<UnaryKernelName, (x: number) => number> = {
  Neg: (x) => -x,
  Exp: Math.exp,
  Log: Math.log,
  Sqrt: Math.sqrt,
  Abs: Math.abs,
  Sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  Relu: (x) => Math.max(x, 0),
  Step: (x) => (x > 0 ? 1 : 0),
  Sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  Tanh: Math.tanh,
};

/** The math of each binary kernel. Comparisons give 1 or 0. */
export const BINARY_MATH: Record<BinaryKernelName, (a: number, b: number) => number> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Mul: (a, b) => a * b,
  Div: (a, b) => a / b,
  Pow: Math.pow,
  Maximum: (a, b) => (Number.isNaN(a) || a > b ? a : b),
  Minimum: (a, b) => (Number.isNaN(a) || a < b ? a : b),
  Equal: (a, b) => (a === b ? 1 : 0),
  Greater: (a, b) => (a > b ? 1 : 0),
  Less: (a, b) => (a < b ? 1 : 0),
};

const COMPARISONS = new Set<BinaryKernelName>(['Equal', 'Greater', 'Less']);

/**
 * For each element of `outShape`, the flat index of the element of `inShape` that broadcasting
 * maps to it.
 */
export function broadcastIndices(inShape: Shape, outShape: Shape): Int32Array {
  const size = sizeOf(outShape);
  const indices = new Int32Array(size);
  const lead = outShape.length - inShape.length;
  const inStrides = stridesOf(inShape);
  const strides = outShape.map((_, i) =>
    i < lead || inShape[i - lead] === 1 ? 0 : inStrides[i - lead],
  );
  const counter = new Array<number>(outShape.length).fill(0);
  let inIndex = 0;
  for (let i = 0; i < size; i++) {
    indices[i] = inIndex;
    // Odometer increment over the output's dims, moving the input index by its strides.
    for (let d = outShape.length - 1; d >= 0; d--) {
      counter[d]++;
      inIndex += strides[d];
      if (counter[d] < outShape[d]) break;
      inIndex -= strides[d] * counter[d];
      counter[d] = 0;
    }
  }
  return indices;
}

export const unaryKernels: KernelConfig<UnaryKernelName>[] = UNARY_KERNELS.map((kernelName) => ({
  kernelName,
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    const out =
      x.dtype === 'int32' ? new Int32Array(values.length) : new Float32Array(values.length);
    const f = UNARY_MATH[kernelName];
    for (let i = 0; i < values.length; i++) out[i] = f(values[i]);
    return ref.output(out, x.shape, x.dtype);
  },
}));

export const binaryKernels: KernelConfig<BinaryKernelName>[] = BINARY_KERNELS.map((kernelName) => ({
  kernelName,
  backendName: 'reference',
  kernelFunc: ({ inputs: [a, b], backend }) => {
    const ref = asReference(backend);
    const shape = broadcastShapes(kernelName, a.shape, b.shape);
    const av = ref.values(a.dataId);
    const bv = ref.values(b.dataId);
    const ai = broadcastIndices(a.shape, shape);
    const bi = broadcastIndices(b.shape, shape);
    const dtype = COMPARISONS.has(kernelName) ? 'float32' : a.dtype;
    const out = dtype === 'int32' ? new Int32Array(ai.length) : new Float32Array(ai.length);
    const f = BINARY_MATH[kernelName];
    for (let i = 0; i < out.length; i++) out[i] = f(av[ai[i]], bv[bi[i]]);
    return ref.output(out, shape, dtype);
  },
}));

/** sum_k weights[k] * inputs[k], summed in float64 and rounded once. */
export const weightedSumKernel: KernelConfig<'WeightedSum'> = {
  kernelName: 'WeightedSum',
  backendName: 'reference',
  kernelFunc: ({ inputs, attrs: { weights }, backend }) => {
    const ref = asReference(backend);
    const values = inputs.map((x) => ref.values(x.dataId));
    const out = new Float32Array(values[0].length);
    for (let i = 0; i < out.length; i++) {
      let total = 0;
      for (let k = 0; k < values.length; k++) total += weights[k] * values[k][i];
      out[i] = total;
    }
    return ref.output(out, inputs[0].shape, 'float32');
  },
};

/** dy where y > 0, else 0. */
export const reluGradKernel: KernelConfig<'ReluGrad'> = {
  kernelName: 'ReluGrad',
  backendName: 'reference',
  kernelFunc: ({ inputs: [dy, y], backend }) => {
    const ref = asReference(backend);
    const [dyv, yv] = [ref.values(dy.dataId), ref.values(y.dataId)];
    const out = new Float32Array(dyv.length);
    for (let i = 0; i < out.length; i++) out[i] = yv[i] > 0 ? dyv[i] : 0;
    return ref.output(out, dy.shape, 'float32');
  },
};

export const castKernel: KernelConfig<'Cast'> = {
  kernelName: 'Cast',
  backendName: 'reference',
  kernelFunc: ({ inputs: [x], attrs: { dtype }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(x.dataId);
    // Int32Array.from truncates toward zero, as PyTorch's float-to-int conversion does.
    const out = dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values);
    return ref.output(out, x.shape, dtype);
  },
};

export const oneHotKernel: KernelConfig<'OneHot'> = {
  kernelName: 'OneHot',
  backendName: 'reference',
  kernelFunc: ({ inputs: [indices], attrs: { depth }, backend }) => {
    const ref = asReference(backend);
    const values = ref.values(indices.dataId);
    const out = new Float32Array(values.length * depth);
    values.forEach((c, i) => {
      if (c < 0 || c >= depth)
        throw new RangeError(`oneHot: class index ${c} at position ${i} is outside [0, ${depth})`);
      out[i * depth + c] = 1;
    });
    return ref.output(out, [...indices.shape, depth]);
  },
};
