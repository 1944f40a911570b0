import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { normalizeDim, shapesEqual } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';
import { add, div, exp, log, mul, neg, sub } from './elementwise.js';
import { max, mean, sum } from './reduce.js';

/**
 * Softmax along `dim` (default: the last), computed as exp(x - max) / sum for stability.
 * Composed from primitives, so every backend gets it and its gradient for free.
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  const d = normalizeDim('softmax', dim, x.rank);
  const e = exp(sub(x, max(x.detach(), d, true)));
  return div(e, sum(e, d, true));
}

/** Log of the softmax along `dim` (default: the last): `x - max - log(sum(exp(x - max)))`. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const d = normalizeDim('logSoftmax', dim, x.rank);
  const shifted = sub(x, max(x.detach(), d, true));
  return sub(shifted, log(sum(exp(shifted), d, true)));
}

/**
 * One-hot encoding of int32 class indices: `[...]` -> `[..., numClasses]` float32, 1 at the
 * index. (PyTorch's `one_hot` returns integers; float32 is what losses multiply with.)
 * An index outside [0, numClasses) is an error on backends that can check (the reference one).
 */
export function oneHot(indices: Tensor, numClasses: number): Tensor {
  if (indices.dtype !== 'int32')
    throw new DTypeError(`oneHot: indices must be int32, got ${indices.dtype}`);
  if (!Number.isInteger(numClasses) || numClasses < 1)
    throw new ShapeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  return runKernel('OneHot', [indices], { depth: numClasses });
}

/** Options of `crossEntropy`, with PyTorch's names and defaults. */
export interface CrossEntropyOptions {
  /** 'mean' over the batch (default), 'sum', or 'none' for one loss per sample. */
  reduction?: 'mean' | 'sum' | 'none';
  /** Mixes the target with the uniform distribution: (1 - e) one-hot + e / C. Default 0. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits `[N, C]` and targets: int32 class indices `[N]`, or float32
 * class probabilities `[N, C]`, with PyTorch's `cross_entropy` semantics (log-softmax inside).
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  if (logits.dtype !== 'float32')
    throw new DTypeError(`crossEntropy: logits must be float32, got ${logits.dtype}`);
  if (logits.rank !== 2)
    throw new ShapeError(`crossEntropy: logits must be [N, C], got ${formatShape(logits.shape)}`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new ShapeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${labelSmoothing}`);
  const [n, numClasses] = logits.shape;
  let probabilities: Tensor;
  if (target.dtype === 'int32') {
    if (target.rank !== 1 || target.shape[0] !== n) {
      throw new ShapeError(
        `crossEntropy: class indices must be [${n}] for logits ${formatShape(logits.shape)}, got ${formatShape(target.shape)}`,
      );
    }
    probabilities = oneHot(target, numClasses);
  } else {
    if (!shapesEqual(target.shape, logits.shape)) {
      throw new ShapeError(
        `crossEntropy: probabilities ${formatShape(target.shape)} must match logits ${formatShape(logits.shape)}`,
      );
    }
    probabilities = target;
  }
  if (labelSmoothing > 0)
    probabilities = add(mul(probabilities, 1 - labelSmoothing), labelSmoothing / numClasses);
  const perSample = neg(sum(mul(logSoftmax(logits, 1), probabilities), 1));
  if (reduction === 'none') return perSample;
  return reduction === 'sum' ? sum(perSample) : mean(perSample);
}
