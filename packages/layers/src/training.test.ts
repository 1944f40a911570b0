import { SGD } from '@gpunet/optim';
import { argmax, Generator, memory, noGrad, type Tensor, tensor, tidy } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { Conv2d, CrossEntropyLoss, Flatten, Linear, MaxPool2d, ReLU, Sequential } from './index.js';

/**
 * A synthetic task: 8x8 single-channel images holding a noisy bar, horizontal (class 0) or
 * vertical (class 1), at a random row or column.
 */
function bars(count: number, generator: Generator): { x: Tensor; y: Tensor } {
  const pixels = new Float32Array(count * 64);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % 2;
    const at = 1 + generator.integer(6);
    labels[n] = label;
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) {
        const onBar = label === 0 ? i === at : j === at;
        pixels[n * 64 + i * 8 + j] = (onBar ? 1 : 0) + 0.2 * generator.normal();
      }
    }
  }
  return { x: tensor(pixels, [count, 1, 8, 8]), y: tensor(labels, [count]) };
}

describe('training a conv net built from these layers', () => {
  it('Conv2d -> ReLU -> MaxPool2d -> Flatten -> Linear with SGD reaches 100% training accuracy without leaking', () => {
    const generator = new Generator(0);
    const { x, y } = bars(32, generator);
    const net = new Sequential(
      new Conv2d(1, 4, 3, { padding: 1, generator }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(4 * 4 * 4, 2, { generator }),
    );
    const lossFn = new CrossEntropyLoss();
    const optimizer = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9 });
    const accuracy = () =>
      noGrad(
        () =>
          tidy(() => {
            const predicted = argmax(net.forward(x), 1).dataSync();
            return predicted.filter((p, i) => p === y.dataSync()[i]).length / predicted.length;
          }) as number,
      );

    const counts: number[] = [];
    let steps = 0;
    while (steps < 200) {
      tidy(() => {
        lossFn.forward(net.forward(x), y).backward();
      });
      optimizer.step();
      optimizer.zeroGrad();
      steps++;
      counts.push(memory().numTensors);
      if (steps >= 5 && accuracy() === 1) break;
    }
    expect(accuracy()).toBe(1);
    // Buffers exist from step 1 on; every later step leaves exactly as many tensors.
    expect(new Set(counts).size).toBe(1);
    expect(steps).toBeGreaterThanOrEqual(5);
  }, 30_000);
});
