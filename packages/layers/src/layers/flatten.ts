import { flatten, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/** Flattens dims `startDim..endDim` into one, like `torch.nn.Flatten` (defaults 1 and -1: keeps the batch). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  /** `[N, C, H, W]` -> `[N, C * H * W]` with the defaults. */
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}
