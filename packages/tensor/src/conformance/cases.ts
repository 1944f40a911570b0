/**
 * The cases of the conformance suite: each is an op (or a short chain of ops) on seeded inputs.
 * Together they reach every kernel of kernel-names.ts (conformance.test.ts checks it), at
 * AlexNet's real layer shapes at batch 1 (alexnet.md; `isLarge`) and at small odd shapes
 * (stride 4, padding 2, groups 2, dilation, 3x3/2 pooling, ceil mode, non-square inputs,
 * batches that threads split, ties, a negative base, integer dtypes).
 */
// Through the package entry, which registers the reference backend the suite compares against.
import * as T from '../index.js';

/**
 * One input of a case, drawn from a seeded generator: uniform in [low, high), or, with
 * `isInteger`, whole numbers in [0, high) (labels, indices, deliberate ties).
 */
export interface ConformanceInput {
  shape: number[];
  /** Default -1. */
  low?: number;
  /** Default 1. */
  high?: number;
  isInteger?: boolean;
  /** Default float32, or int32 for `isInteger`. */
  dtype?: T.DType;
}

/** One conformance case: `f` applied to seeded inputs of these specs. */
export interface ConformanceCase {
  name: string;
  inputs: ConformanceInput[];
  f: (...xs: T.Tensor[]) => T.Tensor;
  /** Compare the output only (integer or 0/1 outputs, ops whose gradient is zero). */
  isForwardOnly?: boolean;
  /** One of AlexNet's layers at batch 1: a slow backend may run these at its own pace. */
  isLarge?: boolean;
}

const uniform = (shape: number[], low = -1, high = 1): ConformanceInput => ({ shape, low, high });
const positive = (shape: number[]): ConformanceInput => ({ shape, low: 0.1, high: 2 });
const integers = (shape: number[], high: number, dtype: T.DType = 'int32'): ConformanceInput => ({
  shape,
  high,
  isInteger: true,
  dtype,
});
const labels = (values: number[]) => T.tensor(values, [values.length], { dtype: 'int32' });

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

const elementwiseCases: ConformanceCase[] = [
  ...Object.entries(UNARY_OPS).map(([name, op]) => ({
    name: `${name} [3, 7]`,
    inputs: [uniform([3, 7], -3, 3)],
    f: (x: T.Tensor) => op(x),
    isForwardOnly: name === 'sign' || name === 'step',
  })),
  { name: 'log [4, 5]', inputs: [positive([4, 5])], f: (x) => T.log(x) },
  { name: 'sqrt [4, 5]', inputs: [positive([4, 5])], f: (x) => T.sqrt(x) },
  ...Object.entries(BINARY_OPS).map(([name, op]) => ({
    name: `${name} broadcasts [2, 3, 4] with [3, 1]`,
    inputs: [uniform([2, 3, 4]), name === 'div' ? positive([3, 1]) : uniform([3, 1])],
    f: (a: T.Tensor, b: T.Tensor) => op(a, b),
  })),
  {
    name: 'add same shape [5, 6]',
    inputs: [uniform([5, 6]), uniform([5, 6])],
    f: (a, b) => T.add(a, b),
  },
  {
    name: 'mul broadcasts [4, 1, 3] with [1, 5, 1]',
    inputs: [uniform([4, 1, 3]), uniform([1, 5, 1])],
    f: (a, b) => T.mul(a, b),
  },
  {
    name: 'pow positive base',
    inputs: [positive([3, 4]), uniform([3, 4])],
    f: (a, b) => T.pow(a, b),
  },
  { name: 'pow negative base, integer exponent', inputs: [uniform([3, 4])], f: (a) => T.pow(a, 3) },
  ...Object.entries(COMPARISON_OPS).map(([name, op]) => ({
    name: `${name} [3, 4] with [4]`,
    // Small whole numbers, so that equal elements occur.
    inputs: [integers([3, 4], 3, 'float32'), integers([4], 3, 'float32')],
    f: (a: T.Tensor, b: T.Tensor) => op(a, b),
    isForwardOnly: true,
  })),
  {
    name: 'elementwise chain with broadcasting',
    inputs: [uniform([4, 5]), uniform([5]), uniform([4, 1])],
    f: (a, b, c) => T.tanh(T.add(T.mul(a, b), T.relu(c))),
  },
  {
    name: 'maximum, minimum, sub, div with 4-D broadcasting (bias-like [1, C, 1, 1])',
    inputs: [uniform([2, 3, 4, 5]), uniform([1, 3, 1, 1]), uniform([5])],
    f: (a, b, c) => T.div(T.sub(T.maximum(a, b), T.minimum(a, c)), T.add(T.mul(c, c), 1)),
  },
  {
    // Large enough (72,960 and 74,880 elements) that the wasm backend splits them over its
    // threads: by images for the bias add and relu, by channels for the product of one image.
    name: 'bias add, relu and product over threads [2, 96, 20, 19] [1, 96, 1, 1] [1, 96, 20, 39]',
    inputs: [uniform([2, 96, 20, 19]), uniform([1, 96, 1, 1]), uniform([1, 96, 20, 39])],
    f: (x, b, y) => T.add(T.relu(T.add(x, b)), T.sum(T.mul(y, y), 3, true)),
  },
  {
    name: 'unary chain: neg, sqrt, abs, sigmoid, pow, exp, log',
    inputs: [uniform([3, 7], -2, 2)],
    f: (x) => {
      const shifted = T.add(T.abs(x), 0.5);
      return T.add(
        T.add(T.neg(T.sqrt(shifted)), T.sigmoid(x)),
        T.add(T.pow(shifted, 1.5), T.log(T.exp(T.mul(x, 0.5)))),
      );
    },
  },
  {
    name: 'dropout with a fixed mask, flatten',
    inputs: [uniform([2, 3, 4])],
    f: (x) => T.flatten(T.dropout(x, { generator: new T.Generator(4) })),
  },
  {
    // An optimizer's update (SGD with momentum and weight decay): 3 terms over an odd length
    // (SIMD lanes and a scalar tail), 2 terms, and 1.
    name: 'weightedSum of 3 [5, 7, 3], 2 and 1',
    inputs: [uniform([5, 7, 3]), uniform([5, 7, 3]), uniform([5, 7, 3])],
    f: (a, b, c) =>
      T.add(
        T.add(T.weightedSum([a, b, c], [0.9, -0.0005, -0.01]), T.weightedSum([b, c], [1, -0.5])),
        T.weightedSum([c], [3]),
      ),
  },
];

const reductionCases: ConformanceCase[] = [
  { name: 'sum all [4, 5, 6]', inputs: [uniform([4, 5, 6])], f: (x) => T.sum(x) },
  { name: 'sum dim 1 [4, 5, 6]', inputs: [uniform([4, 5, 6])], f: (x) => T.sum(x, 1) },
  { name: 'sum dims [0, 2] [4, 5, 6]', inputs: [uniform([4, 5, 6])], f: (x) => T.sum(x, [0, 2]) },
  { name: 'mean dim -1 keepdim [3, 9]', inputs: [uniform([3, 9])], f: (x) => T.mean(x, -1, true) },
  { name: 'max dim 1 [4, 7, 3]', inputs: [uniform([4, 7, 3])], f: (x) => T.max(x, 1) },
  { name: 'min dim 0 [6, 5]', inputs: [uniform([6, 5])], f: (x) => T.min(x, 0) },
  {
    name: 'reductions chain: mean over [0, 2] plus max over 2 summed over 0',
    inputs: [uniform([3, 4, 5])],
    f: (x) => T.add(T.mean(x, [0, 2]), T.max(x, 2).sum(0)),
  },
  {
    name: 'argmax dim 1 [5, 1000]',
    inputs: [uniform([5, 1000])],
    f: (x) => T.argmax(x, 1),
    isForwardOnly: true,
  },
  {
    name: 'min, argmax and cast chain',
    inputs: [uniform([4, 9])],
    f: (x) => T.add(T.cast(T.argmax(x, 1), 'float32'), T.min(x, 1)),
  },
  { name: 'softmax [2, 1000]', inputs: [uniform([2, 1000], -5, 5)], f: (x) => T.softmax(x, -1) },
  {
    name: 'crossEntropy [4, 10]',
    inputs: [uniform([4, 10], -3, 3), integers([4], 10)],
    f: (x, y) => T.crossEntropy(x, y),
  },
  {
    name: 'softmax, logSoftmax, crossEntropy with label smoothing [6, 10]',
    inputs: [uniform([6, 10], -3, 3)],
    f: (x) =>
      T.add(
        T.sum(T.softmax(x, 1)),
        T.add(
          T.sum(T.logSoftmax(x, 0)),
          T.crossEntropy(x, labels([0, 9, 3, 3, 7, 1]), { labelSmoothing: 0.1 }),
        ),
      ),
  },
  {
    name: 'cast float32 -> int32 truncates',
    inputs: [uniform([3, 5], -4, 4)],
    f: (x) => T.cast(x, 'int32'),
    isForwardOnly: true,
  },
  {
    name: 'cast int32 -> float32',
    inputs: [integers([7], 100)],
    f: (x) => T.cast(x, 'float32'),
    isForwardOnly: true,
  },
  {
    name: 'oneHot [6] depth 10',
    inputs: [integers([6], 10)],
    f: (x) => T.oneHot(x, 10),
    isForwardOnly: true,
  },
  {
    // Longer than a shader may loop on llvmpipe (65,535 iterations per invocation, headlessgl):
    // the extremes sit past element 65,536, so a reduction cut short there misses them.
    name: 'sum, max, min and argmax over 80,032 elements (long reductions)',
    inputs: [uniform([80000]), uniform([16], 2, 3)],
    f: (x, y) => {
      const z = T.concat([x, y, T.neg(y)]);
      return T.add(
        T.add(T.sum(z), T.sub(T.max(z), T.min(z))),
        // Scaled so that the sum's error, not the index, sets the compared magnitude.
        T.mul(T.cast(T.argmax(z, 0), 'float32'), 1e-4),
      );
    },
  },
  {
    name: 'sum and max over dims [0, 2] of [270, 2, 300] (long strided reductions)',
    inputs: [uniform([270, 2, 300])],
    f: (x) => T.add(T.sum(x, [0, 2]), T.max(T.mul(x, x), [0, 2])),
  },
];

const transformCases: ConformanceCase[] = [
  {
    name: 'permute [2, 3, 4, 5] -> [0, 3, 1, 2]',
    inputs: [uniform([2, 3, 4, 5])],
    f: (x) => T.permute(x, [0, 3, 1, 2]),
  },
  { name: 'transpose [7, 3]', inputs: [uniform([7, 3])], f: (x) => T.transpose(x) },
  {
    name: 'slice [5, 6, 7]',
    inputs: [uniform([5, 6, 7])],
    f: (x) => T.slice(x, [1, 2, 3], [3, 2, 4]),
  },
  {
    name: 'concat dim 1 of three',
    inputs: [uniform([2, 3, 4]), uniform([2, 1, 4]), uniform([2, 5, 4])],
    f: (...xs) => T.concat(xs, 1),
  },
  {
    name: 'pad [2, 3, 4, 5]',
    inputs: [uniform([2, 3, 4, 5])],
    f: (x) => T.pad(x, [1, 2, 0, 3], 0.5),
  },
  {
    name: 'flip dims [0, 2] of [3, 4, 5]',
    inputs: [uniform([3, 4, 5])],
    f: (x) => T.flip(x, [0, 2]),
  },
  {
    name: 'flip dim -1 of images [2, 3, 5, 7] (a horizontal mirror)',
    inputs: [uniform([2, 3, 5, 7])],
    f: (x) => T.flip(x, -1),
  },
  {
    name: 'broadcastTo [3, 1] -> [2, 3, 4]',
    inputs: [uniform([3, 1])],
    f: (x) => T.broadcastTo(x, [2, 3, 4]),
  },
  {
    name: 'shape chain: slice, concat, pad, permute',
    inputs: [uniform([2, 3, 4]), uniform([2, 1, 4])],
    f: (a, b) =>
      T.permute(T.pad(T.concat([T.slice(a, [0, 1], [-1, 2]), b], 1), [1, 2, 0, 1], 0.5), [2, 0, 1]),
  },
];

const matmulCases: ConformanceCase[] = [
  {
    name: 'matmul [5, 7] x [7, 3]',
    inputs: [uniform([5, 7]), uniform([7, 3])],
    f: (a, b) => T.matmul(a, b),
  },
  {
    name: 'matmul batched and broadcast [2, 1, 13, 37] x [3, 37, 19]',
    inputs: [uniform([2, 1, 13, 37]), uniform([3, 37, 19])],
    f: (a, b) => T.matmul(a, b),
  },
  {
    name: 'matmul with a transposed operand [9, 17] x [33, 17]^T',
    inputs: [uniform([9, 17]), uniform([33, 17])],
    f: (a, b) => T.matmul(a, T.transpose(b, 0, 1)),
  },
  {
    name: 'batchMatMul transposed both [2, 6, 5] x [2, 3, 6]',
    inputs: [uniform([2, 6, 5]), uniform([2, 3, 6])],
    f: (a, b) => T.batchMatMul(a, b, true, true),
  },
  // N a multiple of 4: the products webgl2 computes four columns per texel (@gpunet/kernels'
  // packed matmul), with K a multiple of 4 or not, each operand read in place or copied.
  {
    name: 'batchMatMul N 8 [10, 12] x [8, 12]^T, and its gradients',
    inputs: [uniform([1, 10, 12]), uniform([1, 8, 12])],
    f: (a, b) => T.batchMatMul(a, b, false, true),
  },
  {
    name: 'batchMatMul N 8 K 7 [9, 7] x [8, 7]^T',
    inputs: [uniform([1, 9, 7]), uniform([1, 8, 7])],
    f: (a, b) => T.batchMatMul(a, b, false, true),
  },
  {
    name: 'batchMatMul N 12 K 5 [3, 5] x [5, 12]',
    inputs: [uniform([1, 3, 5]), uniform([1, 5, 12])],
    f: (a, b) => T.batchMatMul(a, b),
  },
  {
    name: 'batchMatMul N 8 K 7 transposed both, B computed [2, 7, 9]^T x relu([2, 8, 7])^T',
    inputs: [uniform([2, 7, 9]), uniform([2, 8, 7])],
    f: (a, b) => T.batchMatMul(a, T.relu(b), true, true),
  },
  {
    name: 'batchMatMul N 4 K 3 A transposed [2, 3, 9]^T x [2, 3, 4]',
    inputs: [uniform([2, 3, 9]), uniform([2, 3, 4])],
    f: (a, b) => T.batchMatMul(a, b, true, false),
  },
];

const convCases: ConformanceCase[] = [
  {
    name: 'conv2d stride 4 non-square [2, 3, 19, 23] w [4, 3, 5, 3]',
    inputs: [uniform([2, 3, 19, 23]), uniform([4, 3, 5, 3])],
    f: (x, w) => T.conv2d(x, w, { stride: 4 }),
  },
  {
    name: 'conv2d padding 2 groups 2 bias [1, 4, 9, 7] w [6, 2, 5, 5]',
    inputs: [uniform([1, 4, 9, 7]), uniform([6, 2, 5, 5]), uniform([6])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 2, groups: 2, bias: b }),
  },
  {
    name: 'conv2d stride [2, 3] padding [1, 0] dilation 2 [2, 2, 11, 10] w [3, 2, 3, 2]',
    inputs: [uniform([2, 2, 11, 10]), uniform([3, 2, 3, 2])],
    f: (x, w) => T.conv2d(x, w, { stride: [2, 3], padding: [1, 0], dilation: 2 }),
  },
  {
    // Fewer channels than kernel columns and no column padding: @gpunet/kernels sums kernel rows
    // innermost there (its conv1 path), here with row padding and column dilation.
    name: 'conv2d stride [1, 2] padding [1, 0] dilation [1, 2] [2, 2, 9, 17] w [3, 2, 3, 5]',
    inputs: [uniform([2, 2, 9, 17]), uniform([3, 2, 3, 5])],
    f: (x, w) => T.conv2d(x, w, { stride: [1, 2], padding: [1, 0], dilation: [1, 2] }),
  },
  {
    name: 'conv2d stride [2, 3] padding [2, 1] dilation 2 groups 2 batch 3 [3, 4, 11, 9] w [6, 2, 3, 2]',
    inputs: [uniform([3, 4, 11, 9]), uniform([6, 2, 3, 2])],
    f: (x, w) => T.conv2d(x, w, { stride: [2, 3], padding: [2, 1], dilation: 2, groups: 2 }),
  },
  {
    // 3x3 stride 1 (the wasm backend's Winograd path): odd sizes cut the last 2x2 output tile,
    // and 240 tiles per image put the batch of 3 into two chunks there.
    name: 'conv2d 3x3 padding 1 groups 2 batch 3 [3, 4, 29, 31] w [6, 2, 3, 3]',
    inputs: [uniform([3, 4, 29, 31]), uniform([6, 2, 3, 3]), uniform([6])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b }),
  },
  {
    // 5x5 stride 1 with 32 input and 16 output channels per group (the wasm backend's
    // F(2x2, 5x5) path in all three passes): odd output sizes, asymmetric padding, groups, and
    // 210 tiles per image (two chunks).
    name: 'conv2d 5x5 padding [1, 2] groups 2 batch 3 [3, 64, 29, 31] w [32, 32, 5, 5]',
    inputs: [uniform([3, 64, 29, 31]), uniform([32, 32, 5, 5])],
    f: (x, w) => T.conv2d(x, w, { padding: [1, 2], groups: 2 }),
  },
  {
    // More than 256 input channels: the wasm GEMM's k runs in two cache blocks (its Winograd
    // path keeps the transformed kernels packed block by block).
    name: 'conv2d 3x3 padding 1 with 300 input channels [1, 300, 6, 7] w [8, 300, 3, 3]',
    inputs: [uniform([1, 300, 6, 7]), uniform([8, 300, 3, 3])],
    f: (x, w) => T.conv2d(x, w, { padding: 1 }),
  },
  {
    name: 'conv2d 3x3 padding [0, 2] [2, 3, 8, 7] w [5, 3, 3, 3]',
    inputs: [uniform([2, 3, 8, 7]), uniform([5, 3, 3, 3])],
    f: (x, w) => T.conv2d(x, w, { padding: [0, 2] }),
  },
  // Convolution, bias and ReLU fused (FusedConv2d where a backend has it), one case per path of
  // the wasm backend's convolutions: each path ends its output planes with the bias and the ReLU.
  {
    // im2col, one image split by columns over the threads.
    name: 'conv2d relu bias stride 4 [1, 3, 19, 23] w [8, 3, 5, 5]',
    inputs: [uniform([1, 3, 19, 23]), uniform([8, 3, 5, 5]), uniform([8])],
    f: (x, w, b) => T.conv2d(x, w, { stride: 4, bias: b, activation: 'relu' }),
  },
  {
    // im2col, the batch split by images over the threads.
    name: 'conv2d relu bias stride 2 groups 2 batch 3 [3, 4, 9, 8] w [6, 2, 3, 3]',
    inputs: [uniform([3, 4, 9, 8]), uniform([6, 2, 3, 3]), uniform([6])],
    f: (x, w, b) => T.conv2d(x, w, { stride: 2, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    // F(2x2, 3x3) (6x6 outputs), with a cut last tile row.
    name: 'conv2d relu bias 3x3 padding 1 batch 2 [2, 3, 6, 5] w [5, 3, 3, 3]',
    inputs: [uniform([2, 3, 6, 5]), uniform([5, 3, 3, 3]), uniform([5])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, bias: b, activation: 'relu' }),
  },
  {
    // F(4x4, 3x3) (AlexNet's 13x13 maps), groups.
    name: 'conv2d relu bias 3x3 padding 1 groups 2 [2, 8, 13, 13] w [6, 4, 3, 3]',
    inputs: [uniform([2, 8, 13, 13]), uniform([6, 4, 3, 3]), uniform([6])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    // F(2x2, 5x5) (4 input and 16 output channels per group), odd output sizes.
    name: 'conv2d relu bias 5x5 padding 2 groups 2 [2, 8, 11, 9] w [32, 4, 5, 5]',
    inputs: [uniform([2, 8, 11, 9]), uniform([32, 4, 5, 5]), uniform([32])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 2, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    // The activation without a bias: a convolution and a separate ReLU on every backend.
    name: 'conv2d relu without bias [2, 3, 7, 6] w [4, 3, 2, 2]',
    inputs: [uniform([2, 3, 7, 6]), uniform([4, 3, 2, 2])],
    f: (x, w) => T.conv2d(x, w, { activation: 'relu' }),
  },
];

const poolCases: ConformanceCase[] = [
  {
    name: 'maxPool2d 3/2 [2, 3, 9, 8]',
    inputs: [uniform([2, 3, 9, 8])],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'maxPool2d ties go to the first max',
    inputs: [integers([1, 2, 6, 6], 3, 'float32')],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 1, padding: 1 }),
  },
  {
    name: 'maxPool2d 2/2 ceil mode on odd sizes (clipped last windows) [2, 3, 7, 9]',
    inputs: [uniform([2, 3, 7, 9])],
    f: (x) => T.maxPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true }),
  },
  {
    name: 'maxPool2d padded, dilated, ceil mode over many planes [4, 9, 9, 8]',
    inputs: [uniform([4, 9, 9, 8])],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, dilation: 2, ceilMode: true }),
  },
  {
    name: 'avgPool2d 3/2 padding 1 [2, 3, 7, 9]',
    inputs: [uniform([2, 3, 7, 9])],
    f: (x) => T.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
  },
  {
    name: 'avgPool2d 3/2 padding 1 ceil mode [2, 3, 7, 6]',
    inputs: [uniform([2, 3, 7, 6])],
    f: (x) => T.avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
  },
  {
    name: 'avgPool2d countIncludePad false [1, 2, 7, 6]',
    inputs: [uniform([1, 2, 7, 6])],
    f: (x) =>
      T.avgPool2d(x, { kernelSize: [3, 2], stride: [2, 1], padding: 1, countIncludePad: false }),
  },
  {
    name: 'adaptiveAvgPool2d [1, 3, 13, 11] -> 6',
    inputs: [uniform([1, 3, 13, 11])],
    f: (x) => T.adaptiveAvgPool2d(x, 6),
  },
  {
    name: 'localResponseNorm size 5 [2, 7, 3, 4]',
    inputs: [uniform([2, 7, 3, 4], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 5, alpha: 0.5, beta: 0.75, k: 2 }),
  },
  {
    name: 'localResponseNorm size 3 batch 3 [3, 7, 5, 4]',
    inputs: [uniform([3, 7, 5, 4], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 3, alpha: 0.3, beta: 0.6, k: 1.5 }),
  },
  {
    name: 'localResponseNorm size 4 (even) [1, 6, 2, 3]',
    inputs: [uniform([1, 6, 2, 3], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 4, alpha: 0.3, beta: 0.6, k: 1 }),
  },
];

// The paper's LRN (section 3.3: k = 2, n = 5, alpha = 1e-4, beta = 0.75); the paper does not divide
// alpha by n and localResponseNorm does, hence alpha 5e-4.
const paperLrn = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };
const alexnetPool = { kernelSize: 3, stride: 2 };

/** AlexNet's layers at batch 1 with the paper's shapes (alexnet.md); weights at init-like scale. */
const alexnetLayers: ConformanceCase[] = [
  {
    name: 'AlexNet conv1 [1, 3, 227, 227] w [96, 3, 11, 11] stride 4 relu',
    inputs: [uniform([1, 3, 227, 227]), uniform([96, 3, 11, 11], -0.1, 0.1), uniform([96])],
    f: (x, w, b) => T.conv2d(x, w, { stride: 4, bias: b, activation: 'relu' }),
  },
  {
    name: 'AlexNet lrn1 [1, 96, 55, 55]',
    inputs: [uniform([1, 96, 55, 55], -3, 3)],
    f: (x) => T.localResponseNorm(x, paperLrn),
  },
  {
    name: 'AlexNet pool1 [1, 96, 55, 55]',
    inputs: [uniform([1, 96, 55, 55])],
    f: (x) => T.maxPool2d(x, alexnetPool),
  },
  {
    name: 'AlexNet conv2 [1, 96, 27, 27] w [256, 48, 5, 5] pad 2 groups 2 relu',
    inputs: [uniform([1, 96, 27, 27]), uniform([256, 48, 5, 5], -0.05, 0.05), uniform([256])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 2, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    name: 'AlexNet lrn2 [1, 256, 27, 27]',
    inputs: [uniform([1, 256, 27, 27], -3, 3)],
    f: (x) => T.localResponseNorm(x, paperLrn),
  },
  {
    name: 'AlexNet pool2 [1, 256, 27, 27]',
    inputs: [uniform([1, 256, 27, 27])],
    f: (x) => T.maxPool2d(x, alexnetPool),
  },
  {
    name: 'AlexNet conv3 [1, 256, 13, 13] w [384, 256, 3, 3] pad 1 relu',
    inputs: [uniform([1, 256, 13, 13]), uniform([384, 256, 3, 3], -0.05, 0.05), uniform([384])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, bias: b, activation: 'relu' }),
  },
  {
    name: 'AlexNet conv4 [1, 384, 13, 13] w [384, 192, 3, 3] pad 1 groups 2 relu',
    inputs: [uniform([1, 384, 13, 13]), uniform([384, 192, 3, 3], -0.05, 0.05), uniform([384])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    name: 'AlexNet conv5 [1, 384, 13, 13] w [256, 192, 3, 3] pad 1 groups 2 relu',
    inputs: [uniform([1, 384, 13, 13]), uniform([256, 192, 3, 3], -0.05, 0.05), uniform([256])],
    f: (x, w, b) => T.conv2d(x, w, { padding: 1, groups: 2, bias: b, activation: 'relu' }),
  },
  {
    name: 'AlexNet pool5 [1, 256, 13, 13]',
    inputs: [uniform([1, 256, 13, 13])],
    f: (x) => T.maxPool2d(x, alexnetPool),
  },
  {
    name: 'adaptiveAvgPool2d [1, 256, 13, 13] -> 6 (uneven windows)',
    inputs: [uniform([1, 256, 13, 13])],
    f: (x) => T.adaptiveAvgPool2d(x, 6),
  },
  {
    name: 'AlexNet fc6 linear [1, 9216] -> 4096',
    inputs: [uniform([1, 9216]), uniform([4096, 9216], -0.01, 0.01), uniform([4096])],
    f: (x, w, b) => T.linear(x, w, b),
  },
  {
    name: 'AlexNet fc7 linear [1, 4096] -> 4096',
    inputs: [uniform([1, 4096]), uniform([4096, 4096], -0.01, 0.01), uniform([4096])],
    f: (x, w, b) => T.linear(x, w, b),
  },
  {
    name: 'AlexNet fc8 linear [1, 4096] -> 1000',
    inputs: [uniform([1, 4096]), uniform([1000, 4096], -0.01, 0.01), uniform([1000])],
    f: (x, w, b) => T.linear(x, w, b),
  },
  {
    name: 'AlexNet fc8 linear at batch 3 [3, 4096] -> 1000',
    inputs: [uniform([3, 4096]), uniform([1000, 4096], -0.01, 0.01), uniform([1000])],
    f: (x, w, b) => T.linear(x, w, b),
  },
];
const alexnetCases = alexnetLayers.map((c) => ({ ...c, isLarge: true }));

/** Every case, small ones first, then AlexNet's layers (`isLarge`). */
export const conformanceCases: ConformanceCase[] = [
  ...elementwiseCases,
  ...reductionCases,
  ...transformCases,
  ...matmulCases,
  ...convCases,
  ...poolCases,
  ...alexnetCases,
];
