import { dropout, type Generator, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/** Options of `Dropout`. */
export interface DropoutLayerOptions {
  /** Where the masks come from; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/**
 * Inverted dropout, like `torch.nn.Dropout(p)`: in training mode zeroes each element with
 * probability p (AlexNet: 0.5 after fc6 and fc7) and scales the rest by 1 / (1 - p); after
 * `eval()` it is the identity.
 */
export class Dropout extends Module {
  readonly generator: Generator | undefined;

  constructor(
    readonly p = 0.5,
    options: DropoutLayerOptions = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = options.generator;
  }

  /** Any shape -> same shape. */
  forward(x: Tensor): Tensor {
    return dropout(x, { p: this.p, training: this.isTraining, generator: this.generator });
  }
}
