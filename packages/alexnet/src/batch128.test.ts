// The paper's recipe on the wasm backend: AlexNet trains at the paper's batch of 128 within
// wasm32's 4 GiB, and a batch that cannot fit is refused before its step, with the estimate and
// the largest batch that fits. Slow (two steps of 128 images: a minute or more on 2 cores), but
// it is what says the memory work holds, so CI runs it.
import type { Conv2d } from '@gpunet/layers';
import {
  crossEntropy,
  Generator,
  getBackend,
  randn,
  setBackend,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from '@gpunet/tensor';
import type { WasmBackend } from '@gpunet/wasm';
import '@gpunet/wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlexNet, alexnet } from './alexnet.js';
import { largestTrainingBatch, TrainingMemoryError, trainingMemory } from './memory.js';
import { paperOptimizer } from './recipe.js';
import { Trainer } from './trainer.js';

const LR = 0.01;
const MOMENTUM = 0.9;
const WEIGHT_DECAY = 0.0005;

describe('paper AlexNet at the paper batch of 128 on the wasm backend', () => {
  let model: AlexNet;
  let backend: WasmBackend;

  beforeAll(async () => {
    await setBackend('wasm');
    backend = getBackend() as WasmBackend;
    model = alexnet({ variant: 'paper', seed: 3 });
  }, 120_000); // 61M parameters drawn twice: slow on a loaded CI

  afterAll(async () => {
    for (const p of model.parameters()) p.dispose();
    await setBackend('reference');
  });

  it('refuses a batch that cannot fit before its step, with the estimate and the largest batch that fits', async () => {
    const { optimizer } = paperOptimizer(model, { lr: LR });
    const limit = backend.memoryLimit();
    const largest = largestTrainingBatch(model, limit, optimizer);
    // The estimate is monotone and `largest` is where it crosses the 4 GiB of wasm32.
    expect(trainingMemory(model, largest, optimizer).total).toBeLessThanOrEqual(limit);
    expect(trainingMemory(model, largest + 1, optimizer).total).toBeGreaterThan(limit);
    expect(largest).toBeGreaterThanOrEqual(128);
    const batch = 3 * 128;
    expect(batch).toBeGreaterThan(largest);
    const images = zeros([batch, 3, 227, 227]);
    const labels = zeros([batch], { dtype: 'int32' });
    const weightBefore = await convWeight(model).data();
    const heapBefore = backend.heap.highWater;
    const trainer = new Trainer({ model, optimizer, data: [{ images, labels }], epochs: 1 });
    const error = await trainer.runEpoch().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TrainingMemoryError);
    const message = (error as Error).message;
    const estimate = trainingMemory(model, batch, optimizer).total;
    expect(message).toContain(
      `at batch ${batch} needs about ${(estimate / 2 ** 30).toFixed(2)} GiB`,
    );
    expect(message).toContain(`the largest batch that fits is ${largest}`);
    expect(message).toContain("'wasm' backend");
    // Before the step: nothing was computed (the heap did not grow) and the weights are as they were.
    expect(backend.heap.highWater).toBe(heapBefore);
    expect(await convWeight(model).data()).toEqual(weightBefore);
    expect(images.isDisposed && labels.isDisposed).toBe(true);
    optimizer.zeroGrad();
  }, 120_000);

  it('trains two steps at batch 128: the weights move as the paper SGD rule says, the loss falls, the heap stays within the estimate', async () => {
    const { optimizer } = paperOptimizer(model, { lr: LR });
    const batch = 128;
    const generator = new Generator(11);
    const images = randn([batch, 3, 227, 227], { generator });
    const labels = tensor(
      Int32Array.from({ length: batch }, () => generator.integer(1000)),
      [batch],
    );
    const weight = convWeight(model);
    const losses: number[] = [];
    let velocity: Float64Array | null = null;
    model.train();
    for (let step = 0; step < 2; step++) {
      const loss = tidy(() => {
        const l = crossEntropy(model.forward(images), labels);
        l.backward();
        return l;
      });
      losses.push((await loss.data())[0] as number);
      loss.dispose();
      const w = await weight.data();
      const g = await (weight.grad as Tensor).data();
      optimizer.step();
      optimizer.zeroGrad();
      // The paper's rule (section 5): v <- 0.9 v - 0.0005 lr w - lr g; w <- w + v.
      const v: Float64Array = new Float64Array(w.length);
      const expected = new Float64Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const previous = velocity ? MOMENTUM * velocity[i] : 0;
        v[i] = previous - LR * (g[i] + WEIGHT_DECAY * w[i]);
        expected[i] = w[i] + v[i];
      }
      velocity = v;
      const after = await weight.data();
      let worst = 0;
      let moved = 0;
      for (let i = 0; i < w.length; i++) {
        worst = Math.max(worst, Math.abs(after[i] - expected[i]));
        moved = Math.max(moved, Math.abs(after[i] - w[i]));
      }
      // conv1's weights (about 0.01) move by about 1e-6 a step; float32 rounds w + v to about
      // 1e-9, so a wrong gradient or rule shows up 100 times above the tolerance.
      expect(moved).toBeGreaterThan(1e-7);
      expect(worst).toBeLessThan(1e-8);
    }
    images.dispose();
    labels.dispose();
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[1]).toBeLessThan(losses[0] as number);
    // The estimate that refuses too-large batches is an upper bound of what the step used.
    expect(backend.heap.highWater).toBeLessThanOrEqual(
      trainingMemory(model, batch, optimizer).total,
    );
  }, 1_200_000);
});

function convWeight(model: AlexNet): Tensor {
  return (model.features.layers[0] as Conv2d).weight;
}
