import type { Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';
import { ReLU } from './activation.js';
import { Conv2d } from './conv2d.js';

/**
 * Modules applied one after another, like `torch.nn.Sequential`: children are named "0", "1",
 * ... so state-dict keys read `features.0.weight` as in torchvision.
 */
export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
  }

  /** The children named by position. */
  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  /** Appends a module (named by its position). */
  append(module: Module): this {
    this.layers.push(module);
    return this;
  }

  /** Number of layers. */
  get length(): number {
    return this.layers.length;
  }

  /**
   * Feeds `x` through every layer in order (each layer's `call`, so its hooks run). A Conv2d
   * directly followed by a ReLU runs as one fused convolution (`Conv2d.forwardFused`), as
   * onnxruntime and TF.js fuse them: the same values, one kernel where the backend has it.
   * Neither may have hooks, be a subclass or have its forward replaced (whose forward may
   * differ); such a pair runs as two layers.
   */
  forward(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < this.layers.length; i++) {
      const layer = this.layers[i];
      const next = this.layers[i + 1];
      if (fusesWithRelu(layer, next)) {
        y = layer.forwardFused(y, 'relu');
        i++;
      } else {
        y = layer.call(y);
      }
    }
    return y;
  }
}

/**
 * A Conv2d and a ReLU that run their classes' own forward (not a subclass's, nor one replaced on
 * the instance, as exportOnnx's tracing does) and have no hooks: one fused convolution.
 */
function fusesWithRelu(layer: Module, next: Module | undefined): layer is Conv2d {
  return (
    next !== undefined &&
    Object.getPrototypeOf(layer) === Conv2d.prototype &&
    Object.getPrototypeOf(next) === ReLU.prototype &&
    !Object.hasOwn(layer, 'forward') &&
    !Object.hasOwn(next, 'forward') &&
    !layer.hasHooks &&
    !next.hasHooks
  );
}
