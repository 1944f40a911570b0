import { Generator, type Tensor } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { ReLU } from './layers/activation.js';
import { Conv2d } from './layers/conv2d.js';
import { Dropout } from './layers/dropout.js';
import { Flatten } from './layers/flatten.js';
import { Linear } from './layers/linear.js';
import { AdaptiveAvgPool2d, MaxPool2d } from './layers/pooling.js';
import { Sequential } from './layers/sequential.js';
import { Module } from './module.js';

/** torchvision's `alexnet` (single tower, no LRN), attribute for attribute. */
class TorchvisionAlexNet extends Module {
  features: Sequential;
  avgpool = new AdaptiveAvgPool2d(6);
  flatten = new Flatten();
  classifier: Sequential;

  constructor(generator: Generator) {
    super();
    this.features = new Sequential(
      new Conv2d(3, 64, 11, { stride: 4, padding: 2, generator }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(64, 192, 5, { padding: 2, generator }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
      new Conv2d(192, 384, 3, { padding: 1, generator }),
      new ReLU(),
      new Conv2d(384, 256, 3, { padding: 1, generator }),
      new ReLU(),
      new Conv2d(256, 256, 3, { padding: 1, generator }),
      new ReLU(),
      new MaxPool2d(3, { stride: 2 }),
    );
    this.classifier = new Sequential(
      new Dropout(0.5),
      new Linear(256 * 6 * 6, 4096, { generator }),
      new ReLU(),
      new Dropout(0.5),
      new Linear(4096, 4096, { generator }),
      new ReLU(),
      new Linear(4096, 1000, { generator }),
    );
  }

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.flatten.call(this.avgpool.call(this.features.call(x))));
  }
}

describe("torchvision's AlexNet built from these layers", () => {
  it('has torchvision state-dict keys and 61,100,840 parameters, and summary() traces its shapes', () => {
    const net = new TorchvisionAlexNet(new Generator(0));
    expect([...net.stateDict().keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.3.weight',
      'features.3.bias',
      'features.6.weight',
      'features.6.bias',
      'features.8.weight',
      'features.8.bias',
      'features.10.weight',
      'features.10.bias',
      'classifier.1.weight',
      'classifier.1.bias',
      'classifier.4.weight',
      'classifier.4.bias',
      'classifier.6.weight',
      'classifier.6.bias',
    ]);
    // A 63x63 input keeps the forward pass cheap: the adaptive pool brings any size to 6x6.
    const summary = net.summary([1, 3, 63, 63], { print: null });
    expect(summary.totalParams).toBe(61_100_840);
    expect(summary.rows.map((r) => [r.name, r.outputShape])).toEqual([
      ['features.0', [1, 64, 15, 15]],
      ['features.1', [1, 64, 15, 15]],
      ['features.2', [1, 64, 7, 7]],
      ['features.3', [1, 192, 7, 7]],
      ['features.4', [1, 192, 7, 7]],
      ['features.5', [1, 192, 3, 3]],
      ['features.6', [1, 384, 3, 3]],
      ['features.7', [1, 384, 3, 3]],
      ['features.8', [1, 256, 3, 3]],
      ['features.9', [1, 256, 3, 3]],
      ['features.10', [1, 256, 3, 3]],
      ['features.11', [1, 256, 3, 3]],
      ['features.12', [1, 256, 1, 1]],
      ['avgpool', [1, 256, 6, 6]],
      ['flatten', [1, 9216]],
      ['classifier.0', [1, 9216]],
      ['classifier.1', [1, 4096]],
      ['classifier.2', [1, 4096]],
      ['classifier.3', [1, 4096]],
      ['classifier.4', [1, 4096]],
      ['classifier.5', [1, 4096]],
      ['classifier.6', [1, 1000]],
    ]);
    expect(summary.rows.find((r) => r.name === 'classifier.1')?.params).toBe(9216 * 4096 + 4096);
    for (const p of net.parameters()) p.dispose();
  }, 30_000); // 61M parameters to initialize: seconds, more when CI runs packages in parallel
});
