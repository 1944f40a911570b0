/**
 * Every kernel a backend can implement, with its typed attributes, declared once.
 *
 * The op front-ends (src/ops) validate arguments and compute these attributes; every backend
 * reads the same attributes, so a backend never re-derives a shape or a padding.
 */
import { broadcastShapes } from './internal/shape.js';
import type { DType, Shape } from './types.js';

/** Elementwise one-input kernels. Output has the input's shape and dtype. */
export const UNARY_KERNELS = [
  'Neg',
  'Exp',
  'Log',
  'Sqrt',
  'Abs',
  'Sign',
  'Relu',
  'Step',
  'Sigmoid',
  'Tanh',
] as const;
export type UnaryKernelName = (typeof UNARY_KERNELS)[number];

/** Elementwise two-input kernels with NumPy broadcasting; comparisons give float32 0/1. */
export const BINARY_KERNELS = [
  'Add',
  'Sub',
  'Mul',
  'Div',
  'Pow',
  'Maximum',
  'Minimum',
  'Equal',
  'Greater',
  'Less',
] as const;
export type BinaryKernelName = (typeof BINARY_KERNELS)[number];

/** Reductions over `dims` (sorted, unique); the output drops those dims. */
export const REDUCE_KERNELS = ['Sum', 'Max', 'Min'] as const;
export type ReduceKernelName = (typeof REDUCE_KERNELS)[number];

export interface ReduceAttrs {
  dims: number[];
}

/** Geometry of a 2-D convolution over NCHW input and [outC, inC/groups, kH, kW] weights. */
export interface Conv2dAttrs {
  batch: number;
  inChannels: number;
  inHeight: number;
  inWidth: number;
  outChannels: number;
  outHeight: number;
  outWidth: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  /** Zero padding before the first row/column; the far side's padding follows from outHeight/outWidth. */
  padTop: number;
  padLeft: number;
  dilationHeight: number;
  dilationWidth: number;
  groups: number;
}

/** The activations a fused kernel can apply to its output. */
export type FusedActivation = 'linear' | 'relu';

/** A convolution's geometry and the activation applied after its bias (`FusedConv2d`). */
export interface FusedConv2dAttrs extends Conv2dAttrs {
  activation: FusedActivation;
}

/** Geometry of a 2-D pooling window over NCHW input. */
export interface Pool2dAttrs {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
  kernelHeight: number;
  kernelWidth: number;
  strideHeight: number;
  strideWidth: number;
  padTop: number;
  padLeft: number;
  dilationHeight: number;
  dilationWidth: number;
  /** Average pooling: count padded cells in the divisor (PyTorch `count_include_pad`). */
  countIncludePad: boolean;
  /** Average pooling: divide by this instead of the window size (PyTorch `divisor_override`). */
  divisorOverride: number | null;
}

/** Adaptive average pooling to a fixed output size (PyTorch windows: floor(i*H/out)..ceil((i+1)*H/out)). */
export interface AdaptivePool2dAttrs {
  batch: number;
  channels: number;
  inHeight: number;
  inWidth: number;
  outHeight: number;
  outWidth: number;
}

/**
 * Local response normalization across channels with PyTorch's semantics:
 * `y[c] = x[c] / (k + alpha / size * sum_{j = c - floor(size/2)}^{c + floor((size-1)/2)} x[j]^2) ^ beta`.
 */
export interface LrnAttrs {
  size: number;
  alpha: number;
  beta: number;
  k: number;
}

/** The attributes of every kernel, keyed by kernel name. */
export interface KernelAttrs
  extends Record<UnaryKernelName, Record<string, never>>,
    Record<BinaryKernelName, Record<string, never>>,
    Record<ReduceKernelName, ReduceAttrs> {
  ArgMax: { dim: number };
  Cast: { dtype: DType };
  OneHot: { depth: number };
  Transpose: { perm: number[] };
  Slice: { begin: number[]; size: number[] };
  Concat: { dim: number };
  Pad: { paddings: [number, number][]; value: number };
  /** Reverses the order of elements along `dims` (sorted, unique, at least one). */
  Flip: { dims: number[] };
  BroadcastTo: { shape: Shape };
  /** [B, M, K] x [B, K, N] -> [B, M, N], each side optionally transposed in its last two dims. */
  BatchMatMul: { transposeA: boolean; transposeB: boolean };
  /** inputs [x, w] -> y */
  Conv2d: Conv2dAttrs;
  /**
   * inputs [x, w, bias] -> activation(conv2d(x, w) + bias), bias `[outChannels]`: a convolution,
   * its bias and its ReLU in one kernel (TF.js's `fused.conv2d`), so the output is written once.
   */
  FusedConv2d: FusedConv2dAttrs;
  /** inputs [dy, w] -> dx */
  Conv2dBackpropInput: Conv2dAttrs;
  /** inputs [x, dy] -> dw */
  Conv2dBackpropFilter: Conv2dAttrs;
  /** inputs [x] -> y */
  MaxPool2d: Pool2dAttrs;
  /** inputs [dy, x] -> dx; the gradient goes to the first maximum of each window, as in PyTorch */
  MaxPool2dGrad: Pool2dAttrs;
  /** inputs [x] -> y */
  AvgPool2d: Pool2dAttrs;
  /** inputs [dy] -> dx */
  AvgPool2dGrad: Pool2dAttrs;
  /** inputs [x] -> y */
  AdaptiveAvgPool2d: AdaptivePool2dAttrs;
  /** inputs [dy] -> dx */
  AdaptiveAvgPool2dGrad: AdaptivePool2dAttrs;
  /** inputs [x] -> y */
  LRN: LrnAttrs;
  /** inputs [x, dy] -> dx */
  LRNGrad: LrnAttrs;
  /** sum_k weights[k] * inputs[k]: inputs of one shape, float32 (an optimizer's fused update). */
  WeightedSum: { weights: number[] };
}

/** The name of a kernel in the registry. */
export type KernelName = keyof KernelAttrs;

/** A kernel's output shape from its inputs' shapes (in order) and its attributes. */
export type OutputShapeFn<K extends KernelName> = (
  inputs: readonly Shape[],
  attrs: KernelAttrs[K],
) => Shape;

/** The same output-shape rule for every kernel of a family. */
function forFamily<N extends KernelName>(
  names: readonly N[],
  rule: (inputs: readonly Shape[], attrs: KernelAttrs[N], name: N) => Shape,
): { [K in N]: OutputShapeFn<K> } {
  const table: Partial<Record<N, OutputShapeFn<N>>> = {};
  for (const name of names) table[name] = (inputs, attrs) => rule(inputs, attrs, name);
  return table as { [K in N]: OutputShapeFn<K> };
}

/** The input of a convolution's geometry: [batch, inChannels, inHeight, inWidth]. */
const convInput = (a: Conv2dAttrs): Shape => [a.batch, a.inChannels, a.inHeight, a.inWidth];
/** The output of a convolution's geometry: [batch, outChannels, outHeight, outWidth]. */
const convOutput = (a: Conv2dAttrs): Shape => [a.batch, a.outChannels, a.outHeight, a.outWidth];
/** The output of a pooling's geometry: [batch, channels, outHeight, outWidth]. */
const poolOutput = (a: Pool2dAttrs | AdaptivePool2dAttrs): Shape => [
  a.batch,
  a.channels,
  a.outHeight,
  a.outWidth,
];
/** The input of a pooling's geometry: [batch, channels, inHeight, inWidth]. */
const poolInput = (a: Pool2dAttrs | AdaptivePool2dAttrs): Shape => [
  a.batch,
  a.channels,
  a.inHeight,
  a.inWidth,
];

/** The dims of `shape` that are not in `dims` (what a reduction over `dims` leaves). */
export function withoutDims(shape: Shape, dims: readonly number[]): Shape {
  return shape.filter((_, d) => !dims.includes(d));
}

/**
 * The output shape of every kernel, declared once beside its attributes: backends allocate
 * from it and @gpunet/kernels plans split launches with it, so none re-derives a shape.
 */
export const OUTPUT_SHAPES: { [K in KernelName]: OutputShapeFn<K> } = {
  ...forFamily(UNARY_KERNELS, ([x]) => x),
  ...forFamily(BINARY_KERNELS, ([a, b], _, name) => broadcastShapes(name, a, b)),
  ...forFamily(REDUCE_KERNELS, ([x], { dims }) => withoutDims(x, dims)),
  ArgMax: ([x], { dim }) => withoutDims(x, [dim]),
  Cast: ([x]) => x,
  OneHot: ([x], { depth }) => [...x, depth],
  Transpose: ([x], { perm }) => perm.map((d) => x[d]),
  Slice: (_, { size }) => size,
  Concat: (inputs, { dim }) => {
    const shape = [...inputs[0]];
    shape[dim] = inputs.reduce((total, s) => total + s[dim], 0);
    return shape;
  },
  Pad: ([x], { paddings }) => x.map((d, k) => paddings[k][0] + d + paddings[k][1]),
  Flip: ([x]) => x,
  BroadcastTo: (_, { shape }) => shape,
  BatchMatMul: ([a, b], { transposeA, transposeB }) => [
    a[0],
    transposeA ? a[2] : a[1],
    transposeB ? b[1] : b[2],
  ],
  Conv2d: (_, a) => convOutput(a),
  FusedConv2d: (_, a) => convOutput(a),
  Conv2dBackpropInput: (_, a) => convInput(a),
  Conv2dBackpropFilter: (_, a) => [
    a.outChannels,
    a.inChannels / a.groups,
    a.kernelHeight,
    a.kernelWidth,
  ],
  MaxPool2d: (_, a) => poolOutput(a),
  MaxPool2dGrad: (_, a) => poolInput(a),
  AvgPool2d: (_, a) => poolOutput(a),
  AvgPool2dGrad: (_, a) => poolInput(a),
  AdaptiveAvgPool2d: (_, a) => poolOutput(a),
  AdaptiveAvgPool2dGrad: (_, a) => poolInput(a),
  LRN: ([x]) => x,
  LRNGrad: ([x]) => x,
  WeightedSum: ([x]) => x,
};

/** The output shape of kernel `name` on inputs of these shapes (see `OUTPUT_SHAPES`). */
export function outputShape<K extends KernelName>(
  name: K,
  inputs: readonly Shape[],
  attrs: KernelAttrs[K],
): Shape {
  const rule: OutputShapeFn<K> = OUTPUT_SHAPES[name];
  return rule(inputs, attrs);
}
