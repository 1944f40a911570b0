import { ShapeError } from '../errors.js';
import { defaultGenerator, type Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { fromValues } from './creation.js';
import { mul } from './elementwise.js';

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element. Default 0.5 (AlexNet's fc6 and fc7). */
  p?: number;
  /** Identity when false (evaluation). Default true. */
  training?: boolean;
  /** Where the mask comes from; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/**
 * Inverted dropout, like `torch.nn.functional.dropout`: while training, zeroes each element with
 * probability p and scales the rest by 1 / (1 - p), so evaluation needs no rescaling. The mask
 * is drawn on the host from a seeded generator: the same seed gives the same mask on every backend.
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  const { p = 0.5, training = true, generator = defaultGenerator } = options;
  if (!(p >= 0 && p <= 1)) throw new ShapeError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = generator.uniform() < p ? 0 : scale;
  return mul(x, fromValues(mask, x.shape, 'float32', x.backend));
}
