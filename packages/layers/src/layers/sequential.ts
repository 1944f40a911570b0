import type { Tensor } from '@gpunet/tensor';
import { Module } from '../module.js';

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

  /** Feeds `x` through every layer in order (each layer's `call`, so its hooks run). */
  forward(x: Tensor): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.call(y);
    return y;
  }
}
