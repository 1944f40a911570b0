import type { Conv2d, Dropout, LocalResponseNorm } from '@gpunet/layers';
import { setBackend, type Tensor } from '@gpunet/tensor';
import '@gpunet/wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlexNet, alexnet } from './index.js';

function disposeModel(model: AlexNet): void {
  for (const p of model.parameters()) p.dispose();
}

/** Mean and standard deviation of a tensor's values. */
function stats(t: Tensor): { mean: number; std: number } {
  const values = t.dataSync();
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, std: Math.sqrt(squares / values.length) };
}

describe("alexnet({ variant: 'paper' })", () => {
  // One model for both tests: building 61M parameters takes seconds. The wasm backend (tested
  // against the reference one in @gpunet/wasm) runs the 227x227 forward pass of summary().
  let model: AlexNet;
  beforeAll(async () => {
    await setBackend('wasm');
    model = alexnet({ variant: 'paper', seed: 7 }).eval();
  }, 120_000); // 61M parameters drawn twice (layer defaults, then the paper's): slow on a loaded CI
  afterAll(() => disposeModel(model));

  it("traces alexnet.md's table: 96x55x55 ... 256x6x6, 4096, 1000, with 60,965,224 parameters", () => {
    const summary = model.summary([1, 3, 227, 227], { print: null });
    expect(summary.totalParams).toBe(60_965_224);
    const shapes = Object.fromEntries(summary.rows.map((r) => [r.name, r.outputShape.slice(1)]));
    expect(shapes).toEqual({
      'features.0': [96, 55, 55], // conv1
      'features.1': [96, 55, 55],
      'features.2': [96, 55, 55], // LRN
      'features.3': [96, 27, 27], // overlapping pool 3/2
      'features.4': [256, 27, 27], // conv2, groups 2
      'features.5': [256, 27, 27],
      'features.6': [256, 27, 27],
      'features.7': [256, 13, 13],
      'features.8': [384, 13, 13], // conv3
      'features.9': [384, 13, 13],
      'features.10': [384, 13, 13], // conv4, groups 2
      'features.11': [384, 13, 13],
      'features.12': [256, 13, 13], // conv5, groups 2
      'features.13': [256, 13, 13],
      'features.14': [256, 6, 6],
      flatten: [9216],
      'classifier.0': [4096], // fc6
      'classifier.1': [4096],
      'classifier.2': [4096], // dropout on fc6's output
      'classifier.3': [4096], // fc7
      'classifier.4': [4096],
      'classifier.5': [4096],
      'classifier.6': [1000], // fc8
    });
    const params = Object.fromEntries(summary.rows.map((r) => [r.name, r.params]));
    expect(params['features.0']).toBe(96 * 3 * 11 * 11 + 96);
    expect(params['features.4']).toBe(256 * 48 * 5 * 5 + 256); // 5x5x48: each tower sees half
    expect(params['features.10']).toBe(384 * 192 * 3 * 3 + 384);
    expect(params['classifier.0']).toBe(9216 * 4096 + 4096);
    const modules = new Map(model.namedModules());
    for (const path of ['features.4', 'features.10', 'features.12']) {
      expect((modules.get(path) as Conv2d).groups).toBe(2);
    }
    expect((modules.get('features.8') as Conv2d).groups).toBe(1);
    // The paper's LRN (k 2, n 5, alpha 1e-4 undivided, beta 0.75) in PyTorch's terms.
    for (const path of ['features.2', 'features.6']) {
      expect((modules.get(path) as LocalResponseNorm).options).toEqual({
        size: 5,
        alpha: 5e-4,
        beta: 0.75,
        k: 2,
      });
    }
    // Dropout 0.5 on the outputs of fc6 and fc7.
    expect(model.classifier.layers.map((m) => m.typeName)).toEqual([
      'Linear',
      'ReLU',
      'Dropout',
      'Linear',
      'ReLU',
      'Dropout',
      'Linear',
    ]);
    expect((modules.get('classifier.2') as Dropout).p).toBe(0.5);
    expect((modules.get('classifier.5') as Dropout).p).toBe(0.5);
  }, 60_000);

  it('initializes weights from N(0, 0.01) and sets biases to 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere, reproducibly', () => {
    const state = model.stateDict();
    for (const key of ['features.0.weight', 'features.4.weight', 'classifier.6.weight']) {
      const { mean, std } = stats(state.get(key) as Tensor);
      expect(Math.abs(mean)).toBeLessThan(5e-4);
      expect(Math.abs(std - 0.01)).toBeLessThan(2e-4);
    }
    const biases = (key: string) => [...new Set((state.get(key) as Tensor).dataSync())];
    for (const key of [
      'features.4',
      'features.10',
      'features.12',
      'classifier.0',
      'classifier.3',
    ]) {
      expect(biases(`${key}.bias`)).toEqual([1]);
    }
    for (const key of ['features.0', 'features.8', 'classifier.6']) {
      expect(biases(`${key}.bias`)).toEqual([0]);
    }
    // Same seed, same weights: the mini variant draws from the generator in the same order.
    const a = alexnet({ variant: 'mini', seed: 7 });
    const b = alexnet({ variant: 'mini', seed: 7 });
    const c = alexnet({ variant: 'mini', seed: 8 });
    const first = (m: AlexNet) => (m.stateDict().get('classifier.3.weight') as Tensor).dataSync();
    expect(first(b)).toEqual(first(a));
    expect(first(c)).not.toEqual(first(a));
    for (const m of [a, b, c]) disposeModel(m);
  }, 60_000);
});
