/**
 * The unary and binary elementwise families, generated from one table each, plus Cast.
 * Binary kernels broadcast NumPy-style; comparisons give float32 0/1.
 */
import {
  BINARY_KERNELS,
  type BinaryKernelName,
  broadcastShapes,
  UNARY_KERNELS,
  type UnaryKernelName,
} from '@gpunet/tensor';
import { defineKernel, type GpuKernel } from '../internal/define.js';
import { broadcastIndex, kernelSource, unravel } from '../internal/index-math.js';

/**
 * Each unary kernel as a gpu.js expression of `x`. Written from operations every mode has:
 * tanh and sigmoid through `Math.exp` in forms that saturate instead of overflowing to NaN.
 */
export const UNARY_SOURCE: Record<UnaryKernelName, string> = {
  Neg: '-x',
  Exp: 'Math.exp(x)',
  Log: 'Math.log(x)',
  Sqrt: 'Math.sqrt(x)',
  Abs: 'Math.abs(x)',
  Sign: '(x > 0 ? 1 : (x < 0 ? -1 : 0))',
  Relu: '(x < 0 ? 0 : x)',
  Step: '(x > 0 ? 1 : 0)',
  Sigmoid: '1 / (1 + Math.exp(-x))',
  Tanh: '(x > 0 ? 1 - 2 / (Math.exp(2 * x) + 1) : 2 / (Math.exp(-2 * x) + 1) - 1)',
};

/**
 * Each binary kernel as a gpu.js expression of `a` and `b`. Pow handles a negative base with an
 * integer exponent itself, since GLSL's pow is undefined for a negative base.
 */
export const BINARY_SOURCE: Record<BinaryKernelName, string> = {
  Add: 'a + b',
  Sub: 'a - b',
  Mul: 'a * b',
  Div: 'a / b',
  Pow:
    '(a >= 0 ? Math.pow(a, b) : (Math.floor(b) === b ? ' +
    // NaN from a run-time value (WGSL rejects the constant sqrt(-1.0) at compile time).
    '(Math.floor(b / 2) * 2 === b ? Math.pow(-a, b) : -Math.pow(-a, b)) : Math.sqrt(a * 0.0 - 1.0)))',
  Maximum: '(a > b ? a : b)',
  Minimum: '(a < b ? a : b)',
  Equal: '(a === b ? 1 : 0)',
  Greater: '(a > b ? 1 : 0)',
  Less: '(a < b ? 1 : 0)',
};

const COMPARISONS = new Set<BinaryKernelName>(['Equal', 'Greater', 'Less']);

export const unaryKernels: GpuKernel[] = UNARY_KERNELS.map((kernelName) =>
  defineKernel(kernelName, ({ inputs: [x], backend }) => {
    const body = `const x = v[i];\nreturn ${UNARY_SOURCE[kernelName]};`;
    return backend.run(kernelSource(['v'], body), [x], x.shape, x.dtype);
  }),
);

export const binaryKernels: GpuKernel[] = BINARY_KERNELS.map((kernelName) =>
  defineKernel(kernelName, ({ inputs: [a, b], backend }) => {
    const shape = broadcastShapes(kernelName, a.shape, b.shape);
    const dtype = COMPARISONS.has(kernelName) ? 'float32' : a.dtype;
    const same = (s: readonly number[]) =>
      s.length === shape.length && s.every((d, k) => d === shape[k]);
    // Same-shape operands index by i directly; the rest unravel the output index once.
    const coords = same(a.shape) && same(b.shape) ? '' : unravel('i', shape, 'o');
    const ai = same(a.shape) ? 'i' : broadcastIndex(a.shape, shape.length, 'o');
    const bi = same(b.shape) ? 'i' : broadcastIndex(b.shape, shape.length, 'o');
    const body = `${coords}\nconst a = va[${ai}];\nconst b = vb[${bi}];\nreturn ${BINARY_SOURCE[kernelName]};`;
    return backend.run(kernelSource(['va', 'vb'], body), [a, b], shape, dtype);
  }),
);

/**
 * ReLU's gradient from its output, dy where y > 0, else 0: one launch where `dy * step(y)` was
 * two (and a mask texture between them).
 */
export const reluGradKernel = defineKernel('ReluGrad', ({ inputs: [dy, y], backend }) =>
  backend.run(
    kernelSource(['vd', 'vy'], 'return vy[i] > 0 ? vd[i] : 0;'),
    [dy, y],
    dy.shape,
    'float32',
  ),
);

/** Float to int truncates toward zero, as the reference (Int32Array.from) does. */
export const castKernel = defineKernel('Cast', ({ inputs: [x], attrs: { dtype }, backend }) => {
  const expr =
    dtype === 'int32' && x.dtype === 'float32' ? '(x < 0 ? Math.ceil(x) : Math.floor(x))' : 'x';
  return backend.run(kernelSource(['v'], `const x = v[i];\nreturn ${expr};`), [x], x.shape, dtype);
});
