import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@gpunet/tensor';
import { dispose, memory, noGrad } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
} from './index.js';
import { Module } from './module.js';
import { PickleError, readPickle } from './pickle.js';
import { readPth } from './pth.js';
import { readSafetensors } from './safetensors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));

/** The TinyNet of fixtures/make_fixtures.py, layer for layer. */
class TinyNet extends Module {
  features = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1 }),
    new ReLU(),
    new LocalResponseNorm(3, { alpha: 0.1, beta: 0.75, k: 2 }),
    new MaxPool2d(3, { stride: 2 }),
    new Conv2d(4, 6, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new AdaptiveAvgPool2d(2),
  );
  flatten = new Flatten();
  classifier = new Sequential(new Dropout(0.5), new Linear(24, 5));

  forward(x: Tensor): Tensor {
    return this.classifier.forward(this.flatten.forward(this.features.forward(x)));
  }
}

describe('readPth', () => {
  it('loads a state dict saved by torch.save and reproduces PyTorch output within 1e-5', () => {
    const weights = readPth(fixture('tiny_net.pth'));
    expect([...weights.tensors.keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.4.weight',
      'features.4.bias',
      'classifier.1.weight',
      'classifier.1.bias',
    ]);
    expect(weights.tensors.get('features.4.weight')?.shape).toEqual([6, 2, 3, 3]);
    const net = new TinyNet();
    const result = net.loadStateDict(weights.tensors);
    expect(result.loaded).toHaveLength(6);
    dispose([...weights.tensors.values()]);
    const io = readSafetensors(fixture('tiny_net_io.safetensors'));
    const x = io.tensors.get('x') as Tensor;
    const expected = (io.tensors.get('y') as Tensor).dataSync();
    net.eval();
    const y = noGrad(() => net.forward(x));
    expect(y.shape).toEqual([2, 5]);
    assertClose(y.dataSync(), expected, { atol: 1e-5, rtol: 0 });
  });
});
