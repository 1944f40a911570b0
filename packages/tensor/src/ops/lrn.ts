import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import type { LrnAttrs } from '../kernel-names.js';
import type { Tensor } from '../tensor.js';

/** Options of `localResponseNorm`, with PyTorch's names and defaults. */
export interface LocalResponseNormOptions {
  /** Number of neighbouring channels in the sum (n in the paper). */
  size: number;
  /** Scale; divided by `size` inside, as PyTorch and Caffe do. Default 1e-4. */
  alpha?: number;
  /** Exponent. Default 0.75. */
  beta?: number;
  /** Additive constant. Default 1. */
  k?: number;
}

/**
 * Local response normalization across channels of an NCHW tensor, with PyTorch's semantics:
 * `y[c] = x[c] / (k + alpha / size * sum x[j]^2) ^ beta`, the sum over
 * `j = c - floor(size/2) .. c + floor((size-1)/2)` clipped to the existing channels.
 *
 * The AlexNet paper (section 3.3) does not divide alpha by n: its formula with alpha = 1e-4 is
 * this one with `alpha: 5e-4` for size 5 (and the paper's k = 2).
 */
export function localResponseNorm(x: Tensor, options: LocalResponseNormOptions): Tensor {
  if (x.dtype !== 'float32')
    throw new DTypeError(`localResponseNorm: expects a float32 tensor, got ${x.dtype}`);
  if (x.rank !== 4)
    throw new ShapeError(
      `localResponseNorm: input must be [N, C, H, W], got ${formatShape(x.shape)}`,
    );
  const { size, alpha = 1e-4, beta = 0.75, k = 1 } = options;
  if (!Number.isInteger(size) || size < 1)
    throw new ShapeError(`localResponseNorm: size must be a positive integer, got ${size}`);
  const a: LrnAttrs = { size, alpha, beta, k };
  return runKernel('LRN', [x], a, (dy) => [runKernel('LRNGrad', [x, dy], a)]);
}
