import {
  conv2d,
  type FusedActivation,
  type Generator,
  ShapeError,
  type Tensor,
} from '@gpunet/tensor';
import { calculateFanInAndFanOut, kaimingUniform, uniform } from '../init.js';
import { Module } from '../module.js';
import { type Parameter, parameter } from '../parameter.js';

/** Options of `Conv2d`, with PyTorch's names and defaults. */
export interface Conv2dLayerOptions {
  /** Default 1. */
  stride?: number | readonly number[];
  /** Zero padding per side, or 'valid' / 'same'. Default 0. */
  padding?: number | readonly number[] | 'valid' | 'same';
  /** Default 1. */
  dilation?: number | readonly number[];
  /** Channel groups (AlexNet's two towers: 2). Default 1. */
  groups?: number;
  /** Learn an additive bias per output channel. Default true. */
  bias?: boolean;
  /** Seeds the default init; defaults to the generator `manualSeed` seeds. */
  generator?: Generator;
}

/**
 * 2-D convolution layer, like `torch.nn.Conv2d`: weight `[outChannels, inChannels / groups,
 * kH, kW]`, bias `[outChannels]`. Default init as PyTorch: kaiming-uniform with a = sqrt(5)
 * (U(-1/sqrt(fanIn), 1/sqrt(fanIn))) for the weight and U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for
 * the bias, fanIn = inChannels / groups * kH * kW.
 */
export class Conv2d extends Module {
  weight: Parameter;
  bias: Parameter | null;
  readonly stride: number | readonly number[];
  readonly padding: number | readonly number[] | 'valid' | 'same';
  readonly dilation: number | readonly number[];
  readonly groups: number;

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number | readonly number[],
    options: Conv2dLayerOptions = {},
  ) {
    super();
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    if (inChannels % this.groups !== 0 || outChannels % this.groups !== 0) {
      // Checked here too, not only in the op: a model that cannot run fails where it is built.
      throw new ShapeError(
        `Conv2d: groups=${this.groups} must divide inChannels=${inChannels} and outChannels=${outChannels}`,
      );
    }
    const [kh, kw] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    const shape = [outChannels, inChannels / this.groups, kh, kw];
    const { generator } = options;
    this.weight = parameter(kaimingUniform(shape, { a: Math.sqrt(5), generator }));
    const bound = 1 / Math.sqrt(calculateFanInAndFanOut(shape).fanIn);
    this.bias =
      options.bias === false
        ? null
        : parameter(uniform([outChannels], -bound, bound, { generator }));
  }

  /** `[N, inChannels, H, W]` -> `[N, outChannels, outH, outW]`. */
  forward(x: Tensor): Tensor {
    return this.forwardFused(x, 'linear');
  }

  /**
   * `activation(this.forward(x))` with the activation fused into the convolution's kernel where
   * the backend has one (`conv2d`'s `activation`): what `Sequential` runs for a Conv2d followed
   * by a ReLU, so that the output is written once and no pre-activation tensor is kept.
   */
  forwardFused(x: Tensor, activation: FusedActivation): Tensor {
    return conv2d(x, this.weight, {
      bias: this.bias,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      activation,
    });
  }
}
