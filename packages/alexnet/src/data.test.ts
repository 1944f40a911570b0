import { DataLoader, SyntheticImages, toTensor } from '@gpunet/data';
import { setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';
import { describe, expect, it } from 'vitest';
import { alexnet, paperOptimizer, Trainer } from './index.js';
import { handTop1 } from './internal/hand-top1.js';

describe('with @gpunet/data', () => {
  it('trains the mini AlexNet from a DataLoader over SyntheticImages (4 classes, 28x28 RGB) to >= 95% validation top-1 in 6 epochs (measured 0.99)', async () => {
    await setBackend('wasm');
    const loader = (length: number, seed: number, shuffle: boolean) =>
      new DataLoader(
        new SyntheticImages({ length, numClasses: 4, size: 28, seed, transform: toTensor() }),
        {
          batchSize: 16,
          shuffle,
          seed,
        },
      );
    const model = alexnet({ variant: 'mini', inputSize: 28, numClasses: 4, seed: 1 });
    // lr 0.005, as `gpunet demo` uses at this scale: at 0.01 and batch 16 validation oscillates
    // (seeds 1-6 ended 4 epochs between 0.68 and 1.0, and a change of float rounding alone, the
    // Winograd convolutions, moved seed 1 from 0.99 to 0.90). At 0.005 for 6 epochs all six
    // seeds ended at 0.96-1.0 with and without Winograd (GPUNET_WASM_WINOGRAD=0).
    const { optimizer, scheduler } = paperOptimizer(model, { lr: 0.005 });
    const trainer = new Trainer({
      model,
      optimizer,
      scheduler,
      epochs: 6,
      data: loader(320, 1, true),
      validation: loader(128, 2, false),
    });
    const history = await trainer.run();
    expect(history.at(-1)?.valTop1).toBeGreaterThanOrEqual(0.95);
    // Counted by hand (argmax of the logits), not by evaluate(), which the Trainer itself uses.
    expect(await handTop1(model, loader(128, 2, false))).toBe(history.at(-1)?.valTop1);
  }, 90_000);
});
