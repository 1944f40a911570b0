import { relu, reluInplace, softmax, type Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

/** `max(0, x)` elementwise, like `torch.nn.ReLU`. */
export class ReLU extends Module {
  /**
   * @param options.inplace Like `torch.nn.ReLU(inplace=True)`: the input's buffer is freed as
   *   soon as the output exists, so a training step does not keep both; the input can no longer
   *   be read. Use it after a layer whose gradient does not read its output (Conv2d, Linear).
   */
  constructor(readonly options: { inplace?: boolean } = {}) {
    super();
  }

  /** Any shape -> same shape. */
  forward(x: Tensor): Tensor {
    return this.options.inplace ? reluInplace(x) : relu(x);
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
