import { Conv2d, Linear, Module } from '@gpunet/layers';
import { concat, reshape, slice, type Tensor, tensor, zeros } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { alexnet, cropAveragedProbabilities, kaimingInit, paperInit } from './index.js';

const stats = (t: Tensor) => {
  const v = Array.from(t.dataSync());
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
};
const learned = (model: Module) =>
  model
    .namedModules()
    .filter(
      (entry): entry is [string, Conv2d | Linear] =>
        entry[1] instanceof Conv2d || entry[1] instanceof Linear,
    );

describe('paperInit and kaimingInit', () => {
  // A pytorch-initialized mini (kaiming-uniform, a = sqrt(5)) that each init then rewrites.
  const model = () =>
    alexnet({
      variant: 'mini',
      inputSize: 32,
      channels: [32, 64, 64, 64, 64],
      hidden: 256,
      init: 'pytorch',
      seed: 4,
    });

  it('paperInit: weights N(0, 0.01), biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 in the others', () => {
    const m = model();
    expect(paperInit(m)).toBe(m);
    const layers = learned(m);
    expect(layers.map(([path]) => path)).toEqual(Object.values(m.layerPaths));
    const ones = new Set([
      m.layerPaths.conv2,
      m.layerPaths.conv4,
      m.layerPaths.conv5,
      m.layerPaths.fc6,
      m.layerPaths.fc7,
    ]);
    for (const [path, layer] of layers) {
      const { mean, std } = stats(layer.weight);
      // fc8 has 2,560 weights: std within 10% of 0.01, the mean within 4 standard errors.
      expect(std, path).toBeGreaterThan(0.009);
      expect(std, path).toBeLessThan(0.011);
      expect(Math.abs(mean), path).toBeLessThan((4 * 0.01) / Math.sqrt(layer.weight.size));
      expect(new Set(layer.bias?.dataSync()), path).toEqual(new Set([ones.has(path) ? 1 : 0]));
    }
  }, 60_000);

  it('kaimingInit: weights N(0, 2 / fanIn), biases 0', () => {
    const m = model();
    expect(kaimingInit(m)).toBe(m);
    for (const [path, layer] of learned(m)) {
      const fanIn = layer.weight.size / (layer.weight.shape[0] as number);
      const { std } = stats(layer.weight);
      const expected = Math.sqrt(2 / fanIn);
      expect(Math.abs(std / expected - 1), path).toBeLessThan(0.1);
      expect(new Set(layer.bias?.dataSync()), path).toEqual(new Set([0]));
    }
  }, 60_000);
});

/** Logits [top-left pixel, 0]: class 0's softmax is sigmoid(top-left pixel) of each view. */
class TopLeft extends Module {
  forward(x: Tensor): Tensor {
    const n = x.shape[0] as number;
    const corner = reshape(slice(x, [0, 0, 0, 0], [n, 1, 1, 1]), [n, 1]);
    return concat([corner, zeros([n, 1])], 1);
  }
}

describe('cropAveragedProbabilities', () => {
  it("averages the softmax over the centre crop, or the paper's ten views", () => {
    // One 4x4 image, 2x2 crops: centre origin (1, 1), corners (0, 0), (0, 2), (2, 0), (2, 2).
    const pixels = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6];
    const image = tensor(pixels, [1, 1, 4, 4]);
    const at = (r: number, c: number) => pixels[r * 4 + c] as number;
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    const centre = cropAveragedProbabilities(new TopLeft(), image, 'center', 2);
    expect(centre.shape).toEqual([1, 2]);
    expect(centre.dataSync()[0]).toBeCloseTo(sigmoid(at(1, 1)), 6);
    // Each crop's own top-left pixel, and its mirror's (the crop's top-right).
    const origins = [
      [1, 1],
      [0, 0],
      [0, 2],
      [2, 0],
      [2, 2],
    ] as const;
    const expected =
      origins.reduce((s, [r, c]) => s + sigmoid(at(r, c)) + sigmoid(at(r, c + 1)), 0) / 10;
    const ten = cropAveragedProbabilities(new TopLeft(), image, 'ten', 2).dataSync();
    expect(ten[0]).toBeCloseTo(expected, 6);
    expect((ten[0] as number) + (ten[1] as number)).toBeCloseTo(1, 6);
  });
});
