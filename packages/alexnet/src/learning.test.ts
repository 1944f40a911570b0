import { setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';
import { describe, expect, it } from 'vitest';
import {
  alexnet,
  type BatchEventDetail,
  type EpochEventDetail,
  evaluate,
  paperOptimizer,
  syntheticBars,
  Trainer,
} from './index.js';
import { handTop1 } from './internal/hand-top1.js';

describe('the mini AlexNet on a generated task', () => {
  it('learns syntheticBars (4 classes, 28x28) to >= 95% validation top-1 in 5 epochs with the paper recipe, sending batch and epoch events', async () => {
    // The wasm backend (tested against the reference backend in @gpunet/wasm) keeps this at seconds.
    await setBackend('wasm');
    const model = alexnet({
      variant: 'mini',
      inputSize: 28,
      inChannels: 1,
      numClasses: 4,
      seed: 1,
    });
    const { optimizer, scheduler } = paperOptimizer(model);
    const fresh = (count: number, seed: number, batchSize: number) => ({
      [Symbol.iterator]: () => syntheticBars({ count, seed, batchSize })[Symbol.iterator](),
    });
    const trainer = new Trainer({
      model,
      optimizer,
      scheduler,
      epochs: 5,
      data: fresh(512, 1, 16),
      validation: fresh(128, 99, 32),
    });
    const batches: BatchEventDetail[] = [];
    const epochs: EpochEventDetail[] = [];
    trainer.addEventListener('batch', (e) =>
      batches.push((e as CustomEvent<BatchEventDetail>).detail),
    );
    trainer.addEventListener('epoch', (e) =>
      epochs.push((e as CustomEvent<EpochEventDetail>).detail),
    );
    const before = await evaluate(model, fresh(128, 99, 32));
    expect(before.top1).toBeLessThan(0.5); // chance is 0.25
    const history = await trainer.run();
    expect(batches).toHaveLength(5 * 32);
    expect(batches[0]).toMatchObject({ epoch: 1, batch: 0, size: 16, lr: 0.01 });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    const last = history.at(-1);
    expect(last?.valTop1).toBeGreaterThanOrEqual(0.95);
    expect(last?.valTop5).toBeUndefined(); // 4 classes: top-5 would be 100% by construction
    expect(last?.trainLoss).toBeLessThan(history[0]?.trainLoss ?? 0);
    // The Trainer's valTop1 against top-1 counted here by hand (argmax of the logits), not by
    // evaluate(), which the Trainer itself uses.
    expect(await handTop1(model, fresh(128, 99, 32))).toBe(last?.valTop1);
  }, 90_000);
});
