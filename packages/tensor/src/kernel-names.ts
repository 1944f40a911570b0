/**
 * Every kernel a backend can implement, with its typed attributes, declared once.
 *
 * The op front-ends (src/ops) validate arguments and compute these attributes; every backend
 * reads the same attributes, so a backend never re-derives a shape or a padding.
 */
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
}

/** The name of a kernel in the registry. */
export type KernelName = keyof KernelAttrs;
