import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { pair, windowCount } from '../internal/shape.js';
import type { AdaptivePool2dAttrs, Pool2dAttrs } from '../kernel-names.js';
import type { Tensor } from '../tensor.js';
import { reshape } from './shape.js';

/** Options of `maxPool2d`, with PyTorch's names and defaults. */
export interface MaxPool2dOptions {
  /** Window size, one number or `[h, w]`. */
  kernelSize: number | readonly number[];
  /** Step of the window; defaults to `kernelSize` (non-overlapping). AlexNet uses 3 and 2. */
  stride?: number | readonly number[];
  /** Implicit -infinity padding on each side, at most half the window. Default 0. */
  padding?: number | readonly number[];
  /** Spacing between window taps. Default 1. */
  dilation?: number | readonly number[];
  /** Use ceil instead of floor for the output size. Default false. */
  ceilMode?: boolean;
}

/** Options of `avgPool2d`, with PyTorch's names and defaults. */
export interface AvgPool2dOptions {
  kernelSize: number | readonly number[];
  /** Defaults to `kernelSize`. */
  stride?: number | readonly number[];
  /** Implicit zero padding on each side, at most half the window. Default 0. */
  padding?: number | readonly number[];
  ceilMode?: boolean;
  /** Count padded zeros in the divisor. Default true, as in PyTorch. */
  countIncludePad?: boolean;
  /** Divide every window by this number instead. */
  divisorOverride?: number;
}

/** Windows along one axis, padded by `pad` on both sides (see `windowCount`). */
function outputSize(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  return windowCount(size, kernel, stride, pad, pad, dilation, ceilMode);
}

function poolAttrs(
  op: string,
  x: Tensor,
  options: MaxPool2dOptions & { countIncludePad?: boolean; divisorOverride?: number },
): Pool2dAttrs {
  if (x.dtype !== 'float32')
    throw new DTypeError(`${op}: expects a float32 tensor, got ${x.dtype}`);
  if (x.rank !== 4)
    throw new ShapeError(`${op}: input must be [N, C, H, W], got ${formatShape(x.shape)}`);
  const [batch, channels, inHeight, inWidth] = x.shape;
  const [kernelHeight, kernelWidth] = pair(op, 'kernelSize', options.kernelSize, 1);
  const [strideHeight, strideWidth] = pair(op, 'stride', options.stride ?? options.kernelSize, 1);
  const [padTop, padLeft] = pair(op, 'padding', options.padding ?? 0);
  const [dilationHeight, dilationWidth] = pair(op, 'dilation', options.dilation ?? 1, 1);
  if (padTop > kernelHeight / 2 || padLeft > kernelWidth / 2) {
    throw new ShapeError(
      `${op}: padding ${padTop}x${padLeft} must be at most half the kernel size ${kernelHeight}x${kernelWidth}`,
    );
  }
  const ceilMode = options.ceilMode ?? false;
  const outHeight = outputSize(
    inHeight,
    kernelHeight,
    strideHeight,
    padTop,
    dilationHeight,
    ceilMode,
  );
  const outWidth = outputSize(inWidth, kernelWidth, strideWidth, padLeft, dilationWidth, ceilMode);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${op}: window ${kernelHeight}x${kernelWidth} does not fit in input ${formatShape(x.shape)} with padding ${padTop}x${padLeft}`,
    );
  }
  const divisorOverride = options.divisorOverride ?? null;
  if (divisorOverride !== null && !(divisorOverride > 0))
    throw new ShapeError(`${op}: divisorOverride must be positive, got ${divisorOverride}`);
  return {
    batch,
    channels,
    inHeight,
    inWidth,
    outHeight,
    outWidth,
    kernelHeight,
    kernelWidth,
    strideHeight,
    strideWidth,
    padTop,
    padLeft,
    dilationHeight,
    dilationWidth,
    countIncludePad: options.countIncludePad ?? true,
    divisorOverride,
  };
}

function unbatched(x: Tensor, fn: (x4: Tensor) => Tensor): Tensor {
  if (x.rank !== 3) return fn(x);
  const y = fn(reshape(x, [1, ...x.shape]));
  return reshape(y, y.shape.slice(1));
}

/** Max pooling over NCHW (or CHW) input, PyTorch `max_pool2d` semantics; windows may overlap (AlexNet: 3/2). */
export function maxPool2d(x: Tensor, options: MaxPool2dOptions): Tensor {
  return unbatched(x, (x4) => {
    const a = poolAttrs('maxPool2d', x4, options);
    return runKernel('MaxPool2d', [x4], a, (dy) => [runKernel('MaxPool2dGrad', [dy, x4], a)]);
  });
}

/** Average pooling over NCHW (or CHW) input, PyTorch `avg_pool2d` semantics. */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return unbatched(x, (x4) => {
    const a = poolAttrs('avgPool2d', x4, options);
    return runKernel('AvgPool2d', [x4], a, (dy) => [runKernel('AvgPool2dGrad', [dy], a)]);
  });
}

/**
 * Average pooling to a fixed output size, PyTorch `adaptive_avg_pool2d` semantics: output cell i
 * averages input rows floor(i*H/outH) to ceil((i+1)*H/outH). torchvision's AlexNet pools to 6x6.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | readonly number[]): Tensor {
  return unbatched(x, (x4) => {
    if (x4.dtype !== 'float32')
      throw new DTypeError(`adaptiveAvgPool2d: expects a float32 tensor, got ${x4.dtype}`);
    if (x4.rank !== 4)
      throw new ShapeError(
        `adaptiveAvgPool2d: input must be [N, C, H, W], got ${formatShape(x4.shape)}`,
      );
    const [outHeight, outWidth] = pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1);
    const [batch, channels, inHeight, inWidth] = x4.shape;
    if (inHeight === 0 || inWidth === 0)
      throw new ShapeError(`adaptiveAvgPool2d: input ${formatShape(x4.shape)} is empty`);
    const a: AdaptivePool2dAttrs = { batch, channels, inHeight, inWidth, outHeight, outWidth };
    return runKernel('AdaptiveAvgPool2d', [x4], a, (dy) => [
      runKernel('AdaptiveAvgPool2dGrad', [dy], a),
    ]);
  });
}
