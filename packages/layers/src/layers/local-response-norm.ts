import { type LocalResponseNormOptions, localResponseNorm, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/**
 * Local response normalization across channels, like `torch.nn.LocalResponseNorm(size, alpha,
 * beta, k)`: `y[c] = x[c] / (k + alpha / size * sum x[j]^2) ^ beta` (alpha divided by size, as
 * PyTorch and Caffe do; defaults alpha 1e-4, beta 0.75, k 1). The paper's layer (section 3.3,
 * k = 2, n = 5, alpha = 1e-4 undivided) is `new LocalResponseNorm(5, { alpha: 5e-4, k: 2 })`.
 */
export class LocalResponseNorm extends Module {
  readonly options: LocalResponseNormOptions;

  constructor(size: number, options: Omit<LocalResponseNormOptions, 'size'> = {}) {
    super();
    this.options = { ...options, size };
  }

  /** `[N, C, H, W]` -> same shape. */
  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.options);
  }
}
