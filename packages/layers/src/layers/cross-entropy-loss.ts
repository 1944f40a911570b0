import { type CrossEntropyOptions, crossEntropy, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/**
 * Cross-entropy between logits and targets, like `torch.nn.CrossEntropyLoss` (log-softmax
 * inside): `loss.forward(logits [N, C], target)` with int32 class indices `[N]` or float32
 * probabilities `[N, C]`. Options: `reduction` ('mean' by default, 'sum', 'none') and `labelSmoothing`.
 */
export class CrossEntropyLoss extends Module {
  constructor(readonly options: CrossEntropyOptions = {}) {
    super();
  }

  /** Loss: a scalar, or `[N]` with reduction 'none'. */
  forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.options);
  }
}
