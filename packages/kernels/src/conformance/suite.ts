/**
 * The conformance suite, written once: every kernel of the gpu.js backend against the reference
 * backend, forward and backward, on AlexNet's layer shapes at batch 1 and odd small shapes.
 * Run by vitest in Node (conformance.test.ts) and by the browser harness (test/browser) for the
 * browser modes. It uses no test framework: `checkCase` throws an Error naming what differs.
 *
 * Each case builds the same op graph on both backends from the same inputs, then compares the
 * output and the gradient of every input (through `sum(out * cotangent)`), element by element.
 */
import * as T from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
// Through the package entry, which registers the backends.
import { GpuBackend } from '../index.js';
import type { GpuMode } from '../modes.js';

/** Modes whose generated kernels compute indices in f32 (over 2^23 elements they refuse). */
export const GL_MODES = new Set<GpuMode>(['headlessgl', 'webgl', 'webgl2', 'webgpu']);

/**
 * Tolerances per mode. Every mode computes in fp32; the reference accumulates in float64, so
 * the error grows with the number of terms in a sum (K of a matmul, taps of a conv: up to
 * 9216 for fc6) as about sqrt(K) ulps. cpu and webasm are IEEE f32 with a different summation
 * order (4 accumulators): rtol 1e-4 with atol scaled to the sum's magnitude covers that.
 * The GL modes run transcendental functions (exp, log, pow) with GPU-grade accuracy, about
 * 1e-6 relative on SwiftShader, and read textures through float coordinates: rtol 1e-3.
 */
export const TOLERANCE: Record<GpuMode, { atol: number; rtol: number }> = {
  cpu: { atol: 1e-4, rtol: 1e-4 },
  webasm: { atol: 1e-4, rtol: 1e-4 },
  headlessgl: { atol: 1e-3, rtol: 1e-3 },
  webgl: { atol: 1e-3, rtol: 1e-3 },
  webgl2: { atol: 1e-3, rtol: 1e-3 },
  webgpu: { atol: 1e-3, rtol: 1e-3 },
};

/** A deterministic input: uniform in [low, high). */
export interface InputSpec {
  shape: number[];
  low?: number;
  high?: number;
  dtype?: T.DType;
  /** Integer values in [0, high) (labels, indices). */
  isInteger?: boolean;
  requiresGrad?: boolean;
}

export interface Case {
  name: string;
  inputs: InputSpec[];
  op: (xs: T.Tensor[]) => T.Tensor;
  /** Skip the backward comparison (int outputs, comparisons). */
  isForwardOnly?: boolean;
  /** A tensor of the case is over EXACT_INDEX_LIMIT: the GL modes must refuse it with an error. */
  isOverGlIndexLimit?: boolean;
}

function values(spec: InputSpec, seed: number): Float32Array | Int32Array {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  const gen = new T.Generator(seed);
  const low = spec.low ?? -1;
  const high = spec.high ?? 1;
  if (spec.isInteger) return Int32Array.from({ length: n }, () => Math.floor(gen.uniform() * high));
  return Float32Array.from({ length: n }, () => low + (high - low) * gen.uniform());
}

export interface Result {
  out: T.TypedArray;
  grads: (T.TypedArray | null)[];
  shape: readonly number[];
}

export async function runCase(c: Case): Promise<Result> {
  const xs = c.inputs.map((spec, k) => {
    const v = values(spec, 1000 + k);
    const t = T.tensor(v, spec.shape, {
      dtype: spec.dtype ?? (v instanceof Int32Array ? 'int32' : 'float32'),
    });
    if (!c.isForwardOnly && spec.requiresGrad !== false && t.dtype === 'float32')
      t.requiresGrad = true;
    return t;
  });
  const out = c.op(xs);
  const result: Result = { out: await out.data(), grads: [], shape: out.shape };
  if (!c.isForwardOnly) {
    const cot = T.tensor(values({ shape: [...out.shape] }, 7), out.shape);
    const loss = T.sum(T.mul(out, cot));
    loss.backward();
    for (const x of xs) result.grads.push(x.grad ? await x.grad.data() : null);
    T.dispose([cot, loss]);
  }
  T.dispose([out, ...xs, ...xs.map((x) => x.grad).filter((g): g is T.Tensor => g !== null)]);
  return result;
}

const f = (shape: number[], low = -1, high = 1): InputSpec => ({ shape, low, high });
const positive = (shape: number[]): InputSpec => ({ shape, low: 0.1, high: 2 });

const UNARY_OPS: Record<string, (x: T.Tensor) => T.Tensor> = {
  neg: T.neg,
  exp: T.exp,
  abs: T.abs,
  relu: T.relu,
  sigmoid: T.sigmoid,
  tanh: T.tanh,
  sign: T.sign,
  step: T.step,
};
const BINARY_OPS: Record<string, (a: T.Tensor, b: T.Tensor) => T.Tensor> = {
  add: T.add,
  sub: T.sub,
  mul: T.mul,
  div: T.div,
  maximum: T.maximum,
  minimum: T.minimum,
};
const COMPARISON_OPS: Record<string, (a: T.Tensor, b: T.Tensor) => T.Tensor> = {
  equal: T.equal,
  greater: T.greater,
  less: T.less,
};

export const CASES: Case[] = [
  // Elementwise, from the tables.
  ...Object.entries(UNARY_OPS).map(([name, op]) => ({
    name: `${name} [3, 7]`,
    inputs: [f([3, 7], -3, 3)],
    op: ([x]: T.Tensor[]) => op(x),
    isForwardOnly: name === 'sign' || name === 'step',
  })),
  { name: 'log [4, 5]', inputs: [positive([4, 5])], op: ([x]) => T.log(x) },
  { name: 'sqrt [4, 5]', inputs: [positive([4, 5])], op: ([x]) => T.sqrt(x) },
  ...Object.entries(BINARY_OPS).map(([name, op]) => ({
    name: `${name} broadcasts [2, 3, 4] with [3, 1]`,
    inputs: [f([2, 3, 4]), name === 'div' ? positive([3, 1]) : f([3, 1])],
    op: ([a, b]: T.Tensor[]) => op(a, b),
  })),
  { name: 'add same shape [5, 6]', inputs: [f([5, 6]), f([5, 6])], op: ([a, b]) => T.add(a, b) },
  {
    name: 'mul broadcasts [4, 1, 3] with [1, 5, 1]',
    inputs: [f([4, 1, 3]), f([1, 5, 1])],
    op: ([a, b]) => T.mul(a, b),
  },
  { name: 'pow positive base', inputs: [positive([3, 4]), f([3, 4])], op: ([a, b]) => T.pow(a, b) },
  { name: 'pow negative base, integer exponent', inputs: [f([3, 4])], op: ([a]) => T.pow(a, 3) },
  ...Object.entries(COMPARISON_OPS).map(([name, op]) => ({
    name: `${name} [3, 4] with [4]`,
    inputs: [
      { shape: [3, 4], isInteger: true, high: 3, dtype: 'float32' as const },
      { shape: [4], isInteger: true, high: 3, dtype: 'float32' as const },
    ],
    op: ([a, b]: T.Tensor[]) => op(a, b),
    isForwardOnly: true,
  })),
  // Reductions.
  { name: 'sum all [4, 5, 6]', inputs: [f([4, 5, 6])], op: ([x]) => T.sum(x) },
  { name: 'sum dim 1 [4, 5, 6]', inputs: [f([4, 5, 6])], op: ([x]) => T.sum(x, 1) },
  { name: 'sum dims [0, 2] [4, 5, 6]', inputs: [f([4, 5, 6])], op: ([x]) => T.sum(x, [0, 2]) },
  { name: 'mean dim -1 keepdim [3, 9]', inputs: [f([3, 9])], op: ([x]) => T.mean(x, -1, true) },
  { name: 'max dim 1 [4, 7, 3]', inputs: [f([4, 7, 3])], op: ([x]) => T.max(x, 1) },
  { name: 'min dim 0 [6, 5]', inputs: [f([6, 5])], op: ([x]) => T.min(x, 0) },
  {
    name: 'argmax dim 1 [5, 1000]',
    inputs: [f([5, 1000])],
    op: ([x]) => T.argmax(x, 1),
    isForwardOnly: true,
  },
  { name: 'softmax [2, 1000]', inputs: [f([2, 1000], -5, 5)], op: ([x]) => T.softmax(x, -1) },
  {
    name: 'crossEntropy [4, 10]',
    inputs: [f([4, 10], -3, 3), { shape: [4], isInteger: true, high: 10 }],
    op: ([x, y]) => T.crossEntropy(x, y),
  },
  // Cast and OneHot.
  {
    name: 'cast float32 -> int32 truncates',
    inputs: [f([3, 5], -4, 4)],
    op: ([x]) => T.cast(x, 'int32'),
    isForwardOnly: true,
  },
  {
    name: 'cast int32 -> float32',
    inputs: [{ shape: [7], isInteger: true, high: 100 }],
    op: ([x]) => T.cast(x, 'float32'),
    isForwardOnly: true,
  },
  {
    name: 'oneHot [6] depth 10',
    inputs: [{ shape: [6], isInteger: true, high: 10 }],
    op: ([x]) => T.oneHot(x, 10),
    isForwardOnly: true,
  },
  // Transforms.
  {
    name: 'permute [2, 3, 4, 5] -> [0, 3, 1, 2]',
    inputs: [f([2, 3, 4, 5])],
    op: ([x]) => T.permute(x, [0, 3, 1, 2]),
  },
  { name: 'transpose [7, 3]', inputs: [f([7, 3])], op: ([x]) => T.transpose(x) },
  {
    name: 'slice [5, 6, 7]',
    inputs: [f([5, 6, 7])],
    op: ([x]) => T.slice(x, [1, 2, 3], [3, 2, 4]),
  },
  {
    name: 'concat dim 1 of three',
    inputs: [f([2, 3, 4]), f([2, 1, 4]), f([2, 5, 4])],
    op: (xs) => T.concat(xs, 1),
  },
  { name: 'pad [2, 3, 4, 5]', inputs: [f([2, 3, 4, 5])], op: ([x]) => T.pad(x, [1, 2, 0, 3], 0.5) },
  {
    name: 'broadcastTo [3, 1] -> [2, 3, 4]',
    inputs: [f([3, 1])],
    op: ([x]) => T.broadcastTo(x, [2, 3, 4]),
  },
  // Matmul.
  {
    name: 'matmul [5, 7] x [7, 3]',
    inputs: [f([5, 7]), f([7, 3])],
    op: ([a, b]) => T.matmul(a, b),
  },
  {
    name: 'batchMatMul transposed both [2, 6, 5] x [2, 3, 6]',
    inputs: [f([2, 6, 5]), f([2, 3, 6])],
    op: ([a, b]) => T.batchMatMul(a, b, true, true),
  },
  {
    name: 'fc6 linear [1, 9216] -> 4096',
    inputs: [f([1, 9216]), f([4096, 9216], -0.01, 0.01), f([4096])],
    op: ([x, w, b]) => T.linear(x, w, b),
    isOverGlIndexLimit: true,
  },
  {
    name: 'fc7 linear [1, 4096] -> 4096',
    inputs: [f([1, 4096]), f([4096, 4096], -0.01, 0.01), f([4096])],
    op: ([x, w, b]) => T.linear(x, w, b),
    isOverGlIndexLimit: true,
  },
  {
    name: 'fc8 linear [1, 4096] -> 1000',
    inputs: [f([1, 4096]), f([1000, 4096], -0.01, 0.01), f([1000])],
    op: ([x, w, b]) => T.linear(x, w, b),
  },
  // Convolution: odd small shapes.
  {
    name: 'conv2d stride 4 non-square [2, 3, 19, 23] w [4, 3, 5, 3]',
    inputs: [f([2, 3, 19, 23]), f([4, 3, 5, 3])],
    op: ([x, w]) => T.conv2d(x, w, { stride: 4 }),
  },
  {
    name: 'conv2d padding 2 groups 2 [1, 4, 9, 7] w [6, 2, 5, 5]',
    inputs: [f([1, 4, 9, 7]), f([6, 2, 5, 5]), f([6])],
    op: ([x, w, b]) => T.conv2d(x, w, { padding: 2, groups: 2, bias: b }),
  },
  {
    name: 'conv2d stride [2, 3] padding [1, 0] dilation 2 [2, 2, 11, 10] w [3, 2, 3, 2]',
    inputs: [f([2, 2, 11, 10]), f([3, 2, 3, 2])],
    op: ([x, w]) => T.conv2d(x, w, { stride: [2, 3], padding: [1, 0], dilation: 2 }),
  },
  {
    // Fewer channels than kernel columns and no column padding: the kernel-row sum is innermost.
    name: 'conv2d stride [1, 2] padding [1, 0] dilation [1, 2] [2, 2, 9, 17] w [3, 2, 3, 5]',
    inputs: [f([2, 2, 9, 17]), f([3, 2, 3, 5])],
    op: ([x, w]) => T.conv2d(x, w, { stride: [1, 2], padding: [1, 0], dilation: [1, 2] }),
  },
  // Pooling and LRN: odd small shapes.
  {
    name: 'maxPool2d 3/2 [2, 3, 9, 8]',
    inputs: [f([2, 3, 9, 8])],
    op: ([x]) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'maxPool2d ties go to the first max',
    inputs: [{ shape: [1, 2, 6, 6], isInteger: true, high: 3, dtype: 'float32' }],
    op: ([x]) => T.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }),
  },
  {
    name: 'avgPool2d 3/2 padding 1 [2, 3, 7, 9]',
    inputs: [f([2, 3, 7, 9])],
    op: ([x]) => T.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
  },
  {
    name: 'avgPool2d countIncludePad false [1, 2, 7, 6]',
    inputs: [f([1, 2, 7, 6])],
    op: ([x]) =>
      T.avgPool2d(x, { kernelSize: [3, 2], stride: [2, 1], padding: 1, countIncludePad: false }),
  },
  {
    name: 'adaptiveAvgPool2d [1, 3, 13, 11] -> 6',
    inputs: [f([1, 3, 13, 11])],
    op: ([x]) => T.adaptiveAvgPool2d(x, 6),
  },
  {
    name: 'localResponseNorm size 5 [2, 7, 3, 4]',
    inputs: [f([2, 7, 3, 4], -3, 3)],
    op: ([x]) => T.localResponseNorm(x, { size: 5, alpha: 0.5, beta: 0.75, k: 2 }),
  },
  {
    name: 'localResponseNorm size 4 (even) [1, 6, 2, 3]',
    inputs: [f([1, 6, 2, 3], -3, 3)],
    op: ([x]) => T.localResponseNorm(x, { size: 4, alpha: 0.3, beta: 0.6, k: 1 }),
  },
  // AlexNet's layers at batch 1 (the paper's shapes, alexnet.md).
  {
    name: 'AlexNet conv1 [1, 3, 227, 227] w [96, 3, 11, 11] stride 4',
    inputs: [f([1, 3, 227, 227]), f([96, 3, 11, 11], -0.1, 0.1), f([96])],
    op: ([x, w, b]) => T.conv2d(x, w, { stride: 4, bias: b }),
  },
  {
    name: 'AlexNet lrn1 [1, 96, 55, 55]',
    inputs: [f([1, 96, 55, 55], -3, 3)],
    op: ([x]) => T.localResponseNorm(x, { size: 5, alpha: 5e-4, beta: 0.75, k: 2 }),
  },
  {
    name: 'AlexNet pool1 [1, 96, 55, 55]',
    inputs: [f([1, 96, 55, 55])],
    op: ([x]) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'AlexNet conv2 [1, 96, 27, 27] w [256, 48, 5, 5] pad 2 groups 2',
    inputs: [f([1, 96, 27, 27]), f([256, 48, 5, 5], -0.05, 0.05), f([256])],
    op: ([x, w, b]) => T.conv2d(x, w, { padding: 2, groups: 2, bias: b }),
  },
  {
    name: 'AlexNet conv3 [1, 256, 13, 13] w [384, 256, 3, 3] pad 1',
    inputs: [f([1, 256, 13, 13]), f([384, 256, 3, 3], -0.05, 0.05), f([384])],
    op: ([x, w, b]) => T.conv2d(x, w, { padding: 1, bias: b }),
  },
  {
    name: 'AlexNet conv4 [1, 384, 13, 13] w [384, 192, 3, 3] pad 1 groups 2',
    inputs: [f([1, 384, 13, 13]), f([384, 192, 3, 3], -0.05, 0.05), f([384])],
    op: ([x, w, b]) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b }),
  },
  {
    name: 'AlexNet conv5 [1, 384, 13, 13] w [256, 192, 3, 3] pad 1 groups 2',
    inputs: [f([1, 384, 13, 13]), f([256, 192, 3, 3], -0.05, 0.05), f([256])],
    op: ([x, w, b]) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b }),
  },
  {
    name: 'AlexNet pool5 [1, 256, 13, 13]',
    inputs: [f([1, 256, 13, 13])],
    op: ([x]) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
];

// The reference results, computed once and shared by every mode.
const expected = new Map<string, Promise<Result>>();
export function reference(c: Case): Promise<Result> {
  let r = expected.get(c.name);
  if (!r) {
    r = (async () => {
      await T.setBackend('reference');
      return runCase(c);
    })();
    expected.set(c.name, r);
  }
  return r;
}

/** Largest finite magnitude in `v`, at least 1: sums of many terms get an atol scaled by it. */
function scale(v: ArrayLike<number>): number {
  let m = 1;
  for (let k = 0; k < v.length; k++)
    if (Number.isFinite(v[k]) && Math.abs(v[k]) > m) m = Math.abs(v[k]);
  return m;
}

/** Makes `mode` current, or throws why it cannot run: a mode that cannot start fails the run. */
export async function startMode(mode: GpuMode): Promise<void> {
  await T.setBackend(mode);
  if (!(T.getBackend() instanceof GpuBackend))
    throw new Error(`setBackend('${mode}') did not give a gpu.js backend`);
}

/** Runs one case on `mode` and on the reference backend; throws naming the first difference. */
export async function checkCase(mode: GpuMode, c: Case): Promise<void> {
  const tol = TOLERANCE[mode];
  if (c.isOverGlIndexLimit && GL_MODES.has(mode)) {
    await T.setBackend(mode);
    try {
      await runCase(c);
    } catch (error) {
      if (String(error).includes('limit of exact f32 index arithmetic')) return;
      throw error;
    }
    throw new Error(`${c.name}: expected ${mode} to refuse a tensor over the exact-index limit`);
  }
  const want = await reference(c);
  await T.setBackend(mode);
  const got = await runCase(c);
  if (got.shape.join() !== want.shape.join()) {
    throw new Error(`${c.name}: shape [${got.shape}] differs from the reference's [${want.shape}]`);
  }
  assertClose(
    got.out,
    want.out,
    { atol: tol.atol * scale(want.out), rtol: tol.rtol },
    `${c.name} forward`,
  );
  got.grads.forEach((g, k) => {
    const w = want.grads[k];
    if (g === null || w === null) {
      if (g !== w)
        throw new Error(
          `${c.name}: gradient of input ${k} is ${g ? 'present' : 'missing'} on ${mode} only`,
        );
      return;
    }
    assertClose(
      g,
      w,
      { atol: tol.atol * scale(w), rtol: tol.rtol },
      `${c.name} grad of input ${k}`,
    );
  });
}
