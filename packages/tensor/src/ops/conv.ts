import { getKernel } from '../backend.js';
import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { pair, windowCount } from '../internal/shape.js';
import type { Conv2dAttrs, FusedActivation } from '../kernel-names.js';
import type { Tensor } from '../tensor.js';
import type { Shape } from '../types.js';
import { add, relu, reluGrad } from './elementwise.js';
import { sum } from './reduce.js';
import { reshape } from './shape.js';

/** Options of `conv2d`, with PyTorch's names and defaults. */
export interface Conv2dOptions {
  /** `[outChannels]`, added to every output position. */
  bias?: Tensor | null;
  /** Step of the window, one number or `[h, w]`. Default 1. */
  stride?: number | readonly number[];
  /** Zero padding on each side, `[h, w]`, or 'valid' (none) / 'same' (output size = input size; stride 1). Default 0. */
  padding?: number | readonly number[] | 'valid' | 'same';
  /** Spacing between kernel taps. Default 1. */
  dilation?: number | readonly number[];
  /** Channel groups: input and output channels are split into this many independent convolutions. Default 1. */
  groups?: number;
  /**
   * Applied to the output after the bias: `'relu'` gives `relu(conv2d(x, w) + bias)`. Where the
   * backend registers `FusedConv2d` (reference, wasm, every gpu.js mode) the convolution, the
   * bias and the ReLU are one kernel that writes the output once, as TF.js's `fused.conv2d`;
   * elsewhere they are three ops with the same result. Default 'linear' (none).
   */
  activation?: FusedActivation;
}

const ACTIVATIONS: readonly FusedActivation[] = ['linear', 'relu'];

/**
 * Checks a convolution's arguments and computes its geometry; throws a ShapeError that names
 * the argument and the shapes. `x` is `[N, C, H, W]`, `w` is `[outC, C / groups, kH, kW]`.
 */
export function conv2dAttrs(
  xShape: Shape,
  wShape: Shape,
  options: Conv2dOptions = {},
): Conv2dAttrs {
  const op = 'conv2d';
  if (xShape.length !== 4)
    throw new ShapeError(`${op}: input must be [N, C, H, W], got ${formatShape(xShape)}`);
  if (wShape.length !== 4)
    throw new ShapeError(
      `${op}: weight must be [outC, inC/groups, kH, kW], got ${formatShape(wShape)}`,
    );
  const groups = options.groups ?? 1;
  const [batch, inChannels, inHeight, inWidth] = xShape;
  const [outChannels, groupChannels, kernelHeight, kernelWidth] = wShape;
  if (!Number.isInteger(groups) || groups < 1)
    throw new ShapeError(`${op}: groups must be a positive integer, got ${groups}`);
  if (inChannels % groups !== 0) {
    throw new ShapeError(
      `${op}: groups=${groups} does not divide the input's ${inChannels} channels (input ${formatShape(xShape)})`,
    );
  }
  if (outChannels % groups !== 0) {
    throw new ShapeError(
      `${op}: groups=${groups} does not divide the weight's ${outChannels} output channels (weight ${formatShape(wShape)})`,
    );
  }
  if (groupChannels * groups !== inChannels) {
    throw new ShapeError(
      `${op}: input has ${inChannels} channels but weight ${formatShape(wShape)} with groups=${groups} expects ${groupChannels * groups}`,
    );
  }
  const [strideHeight, strideWidth] = pair(op, 'stride', options.stride ?? 1, 1);
  const [dilationHeight, dilationWidth] = pair(op, 'dilation', options.dilation ?? 1, 1);
  const spanHeight = dilationHeight * (kernelHeight - 1) + 1;
  const spanWidth = dilationWidth * (kernelWidth - 1) + 1;
  let padTop: number;
  let padLeft: number;
  let padBottom: number;
  let padRight: number;
  const padding = options.padding ?? 0;
  if (padding === 'valid') {
    [padTop, padLeft, padBottom, padRight] = [0, 0, 0, 0];
  } else if (padding === 'same') {
    if (strideHeight !== 1 || strideWidth !== 1)
      throw new ShapeError(
        `${op}: padding='same' needs stride 1, got stride ${strideHeight}x${strideWidth}`,
      );
    // PyTorch puts the odd extra row/column at the bottom/right.
    padTop = Math.floor((spanHeight - 1) / 2);
    padLeft = Math.floor((spanWidth - 1) / 2);
    padBottom = spanHeight - 1 - padTop;
    padRight = spanWidth - 1 - padLeft;
  } else {
    [padTop, padLeft] = pair(op, 'padding', padding);
    [padBottom, padRight] = [padTop, padLeft];
  }
  const outHeight = windowCount(
    inHeight,
    kernelHeight,
    strideHeight,
    padTop,
    padBottom,
    dilationHeight,
  );
  const outWidth = windowCount(inWidth, kernelWidth, strideWidth, padLeft, padRight, dilationWidth);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${op}: kernel ${kernelHeight}x${kernelWidth} (dilation ${dilationHeight}x${dilationWidth}) is larger than the padded input ` +
        `${inHeight + padTop + padBottom}x${inWidth + padLeft + padRight} (input ${formatShape(xShape)})`,
    );
  }
  return {
    batch,
    inChannels,
    inHeight,
    inWidth,
    outChannels,
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
    groups,
  };
}

/**
 * 2-D convolution (cross-correlation) over an NCHW batch, PyTorch `conv2d` semantics:
 * x `[N, C, H, W]` (or `[C, H, W]`), weight `[outC, C / groups, kH, kW]` -> `[N, outC, outH, outW]`.
 */
export function conv2d(x: Tensor, weight: Tensor, options: Conv2dOptions = {}): Tensor {
  if (x.dtype !== 'float32' || weight.dtype !== 'float32') {
    throw new DTypeError(
      `conv2d: expects float32 input and weight, got ${x.dtype} and ${weight.dtype}`,
    );
  }
  if (x.rank === 3) {
    const y = conv2d(reshape(x, [1, ...x.shape]), weight, options);
    return reshape(y, y.shape.slice(1));
  }
  const a = conv2dAttrs(x.shape, weight.shape, options);
  const { bias = null, activation = 'linear' } = options;
  if (bias && (bias.rank !== 1 || bias.shape[0] !== a.outChannels)) {
    throw new ShapeError(
      `conv2d: bias ${formatShape(bias.shape)} does not match the ${a.outChannels} output channels`,
    );
  }
  if (bias && bias.dtype !== 'float32') {
    throw new DTypeError(`conv2d: expects a float32 bias, got ${bias.dtype}`);
  }
  if (!ACTIVATIONS.includes(activation)) {
    throw new RangeError(
      `conv2d: activation must be one of ${ACTIVATIONS.map((n) => `'${n}'`).join(', ')}, got '${activation}'`,
    );
  }
  if (bias && getKernel('FusedConv2d', x.backend.name)) {
    return runKernel('FusedConv2d', [x, weight, bias], { ...a, activation }, (dy, y) => {
      // ReLU's gradient reads the output: y > 0 exactly where the pre-activation is.
      const g = activation === 'relu' ? reluGrad(dy, y) : dy;
      return [
        x.requiresGrad ? runKernel('Conv2dBackpropInput', [g, weight], a) : null,
        weight.requiresGrad ? runKernel('Conv2dBackpropFilter', [x, g], a) : null,
        bias.requiresGrad ? sum(g, [0, 2, 3]) : null,
      ];
    });
  }
  let y = runKernel('Conv2d', [x, weight], a, (dy) => [
    x.requiresGrad ? runKernel('Conv2dBackpropInput', [dy, weight], a) : null,
    weight.requiresGrad ? runKernel('Conv2dBackpropFilter', [x, dy], a) : null,
  ]);
  // Nothing reads an intermediate again (add's gradient needs only shapes, the convolution's its
  // inputs, relu's its output): each is freed as soon as the next exists, not when the step's
  // tidy ends.
  if (bias) y = replacing(y, add(y, reshape(bias, [1, a.outChannels, 1, 1])));
  if (activation === 'relu') y = replacing(y, relu(y));
  return y;
}

/** `next`, after freeing the buffer of `previous`, which only `next` read. */
function replacing(previous: Tensor, next: Tensor): Tensor {
  previous.releaseBuffer();
  return next;
}
