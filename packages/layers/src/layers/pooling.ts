import {
  type AvgPool2dOptions,
  adaptiveAvgPool2d,
  avgPool2d,
  type MaxPool2dOptions,
  maxPool2d,
  type Tensor,
} from '@gpunet/tensor';
import { Module } from '../module.js';

/**
 * Max pooling, like `torch.nn.MaxPool2d(kernelSize, stride)`: `new MaxPool2d(3, { stride: 2 })`
 * is AlexNet's overlapping pooling. The stride defaults to the kernel size.
 */
export class MaxPool2d extends Module {
  readonly options: MaxPool2dOptions;

  constructor(
    kernelSize: number | readonly number[],
    options: Omit<MaxPool2dOptions, 'kernelSize'> = {},
  ) {
    super();
    this.options = { ...options, kernelSize };
  }

  /** `[N, C, H, W]` -> `[N, C, outH, outW]`. */
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options);
  }
}

/** Average pooling, like `torch.nn.AvgPool2d` (padding counts in the divisor by default). */
export class AvgPool2d extends Module {
  readonly options: AvgPool2dOptions;

  constructor(
    kernelSize: number | readonly number[],
    options: Omit<AvgPool2dOptions, 'kernelSize'> = {},
  ) {
    super();
    this.options = { ...options, kernelSize };
  }

  /** `[N, C, H, W]` -> `[N, C, outH, outW]`. */
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.options);
  }
}

/** Average pooling to a fixed output size, like `torch.nn.AdaptiveAvgPool2d` (torchvision AlexNet: 6). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: number | readonly number[]) {
    super();
  }

  /** `[N, C, H, W]` -> `[N, C, outH, outW]`. */
  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
