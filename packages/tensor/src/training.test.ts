import { describe, expect, it } from 'vitest';
import {
  argmax,
  conv2d,
  crossEntropy,
  flatten,
  Generator,
  linear,
  maxPool2d,
  memory,
  mul,
  noGrad,
  randn,
  relu,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from './index.js';

/** 8x8 images: class 0 has a vertical bar, class 1 a horizontal bar, at a random place, plus noise. */
function barsDataset(count: number, generator: Generator): { images: Tensor; labels: Tensor } {
  const size = 8;
  const pixels = new Float32Array(count * size * size);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    labels[n] = label;
    const at = 1 + generator.integer(size - 2);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < size; j++) {
        const onBar = label === 0 ? j === at : i === at;
        pixels[(n * size + i) * size + j] = (onBar ? 1 : 0) + 0.1 * generator.normal();
      }
    }
  }
  return {
    images: tensor(pixels, [count, 1, size, size]),
    labels: tensor(labels, [count], { dtype: 'int32' }),
  };
}

describe('a small conv net trains with plain SGD on the reference backend', () => {
  it('conv -> relu -> maxPool -> linear -> crossEntropy reaches 100% training accuracy without leaking', () => {
    const generator = new Generator(2012);
    const { images, labels } = barsDataset(32, generator);
    const parameters = {
      convWeight: mul(randn([4, 1, 3, 3], { generator }), 0.3),
      convBias: zeros([4]),
      fcWeight: mul(randn([2, 64], { generator }), 0.1),
      fcBias: zeros([2]),
    };
    for (const p of Object.values(parameters)) {
      p.requiresGrad = true;
      p.keep();
    }
    const forward = (x: Tensor) => {
      const features = maxPool2d(
        relu(conv2d(x, parameters.convWeight, { bias: parameters.convBias, padding: 1 })),
        { kernelSize: 2 },
      );
      return linear(flatten(features, 1), parameters.fcWeight, parameters.fcBias);
    };
    const lr = 0.5;
    const losses: number[] = [];
    let afterFirstStep = memory();
    for (let step = 1; step <= 50; step++) {
      const loss = tidy(() => {
        const l = crossEntropy(forward(images), labels);
        l.backward();
        noGrad(() => {
          for (const p of Object.values(parameters)) {
            p.assign(p.sub(p.grad!.mul(lr)));
            p.grad!.dispose();
            p.grad = null;
          }
        });
        return l.dataSync()[0];
      });
      losses.push(loss);
      if (step === 1) afterFirstStep = memory();
    }
    expect(memory()).toEqual(afterFirstStep);
    const predictions = tidy(() => argmax(forward(images), 1).dataSync());
    const accuracy =
      predictions.filter((p, i) => p === labels.dataSync()[i]).length / predictions.length;
    expect(accuracy).toBe(1);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 5);
  });
});
