import { relu, softmax, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/** `max(0, x)` elementwise, like `torch.nn.ReLU`. */
export class ReLU extends Module {
  /** Any shape -> same shape. */
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Softmax along `dim` (default: the last), like `torch.nn.Softmax(dim)`. */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  /** Any shape -> same shape, summing to 1 along `dim`. */
  forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }
}
