import { type Generator, linear, type Tensor } from '@gpunet/tensor';
import { kaimingUniform, uniform } from '../init.js';
import { Module } from '../module.js';
import { type Parameter, parameter } from '../parameter.js';

/** Options of `Linear`. */
export interface LinearOptions {
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Seeds the default init; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/**
 * Fully connected layer `y = x Wᵀ + b`, like `torch.nn.Linear`: weight `[outFeatures,
 * inFeatures]`, bias `[outFeatures]`, both initialized from U(-1/sqrt(inFeatures),
 * 1/sqrt(inFeatures)) as PyTorch does (kaiming-uniform with a = sqrt(5)).
 */
export class Linear extends Module {
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    const { generator } = options;
    this.weight = parameter(
      kaimingUniform([outFeatures, inFeatures], { a: Math.sqrt(5), generator }),
    );
    const bound = 1 / Math.sqrt(inFeatures);
    this.bias =
      options.bias === false
        ? null
        : parameter(uniform([outFeatures], -bound, bound, { generator }));
  }

  /** `[..., inFeatures]` -> `[..., outFeatures]`. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
