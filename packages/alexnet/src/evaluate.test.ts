import { noGrad, setBackend, slice, softmax, type Tensor, tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  alexnet,
  evaluate,
  features,
  flipHorizontal,
  IMAGENET_CLASSES,
  predict,
  syntheticBars,
  topKCounts,
} from './index.js';

const mini = () =>
  alexnet({ variant: 'mini', inputSize: 24, inChannels: 1, numClasses: 6, hidden: 16, seed: 3 });

/** `run()` with gpu.js's `backend` current, then the reference backend again. */
async function onBackend<T>(backend: string, run: () => Promise<T>): Promise<T> {
  await import('@gpunet/kernels');
  await setBackend(backend);
  try {
    return await run();
  } finally {
    await setBackend('reference');
  }
}

describe('evaluate', () => {
  it('counts top-1 and top-5 by rank, ties in the label favour', () => {
    // 3 images, 6 classes; labels 0, 1, 5.
    const p = [
      [0.5, 0.1, 0.1, 0.1, 0.1, 0.1], // label 0 first: top-1 and top-5
      [0.3, 0.2, 0.25, 0.1, 0.1, 0.05], // label 1 third: top-5 only
      [0.3, 0.2, 0.2, 0.1, 0.15, 0.05], // label 5 last: neither
    ].flat();
    const counts = topKCounts(p, [0, 1, 5], 6);
    expect(counts.top1).toBe(1);
    expect(counts.top5).toBe(2);
    expect(counts.nll).toBeCloseTo(-Math.log(0.5) - Math.log(0.2) - Math.log(0.05), 12);
  });

  it('flipHorizontal mirrors the last axis', () => {
    const x = tensor([1, 2, 3, 4, 5, 6], [1, 1, 2, 3]);
    expect(Array.from(flipHorizontal(x).dataSync())).toEqual([3, 2, 1, 6, 5, 4]);
  });

  it("'ten' runs on gpu.js webasm-threads (no synchronous reads) exactly as on webasm", async () => {
    const tenCrops = () => {
      const [batch] = syntheticBars({ count: 4, size: 30, seed: 1 });
      return evaluate(mini(), [batch as { images: Tensor; labels: Tensor }], { crops: 'ten' });
    };
    const threaded = await onBackend('webasm-threads', tenCrops);
    expect(threaded.count).toBe(4);
    expect(Number.isFinite(threaded.loss)).toBe(true);
    expect(threaded).toEqual(await onBackend('webasm', tenCrops));
  }, 60_000);

  it("'ten' averages the softmax over 4 corners, the centre and their mirrors (the paper's 10-crop test)", async () => {
    const model = mini();
    const [batch] = syntheticBars({ count: 4, size: 30, seed: 1 }).map((b) => ({
      images: b.images,
      labels: tensor([0, 1, 2, 5], [4]),
    }));
    const images = batch?.images as Tensor;
    // By hand: the ten views and the mean of their softmax.
    const views: [number, number][] = [
      [3, 3],
      [0, 0],
      [0, 6],
      [6, 0],
      [6, 6],
    ];
    const expected = new Float64Array(4 * 6);
    noGrad(() => {
      model.eval();
      for (const [top, left] of views) {
        const crop = slice(images, [0, 0, top, left], [4, 1, 24, 24]);
        for (const view of [crop, flipHorizontal(crop)]) {
          const p = softmax(model.forward(view), 1).dataSync();
          for (let i = 0; i < p.length; i++)
            expected[i] = (expected[i] as number) + (p[i] as number) / 10;
        }
      }
    });
    const counts = topKCounts(expected, [0, 1, 2, 5], 6);
    model.train();
    const result = await evaluate(model, [batch as { images: Tensor; labels: Tensor }], {
      crops: 'ten',
      disposeBatches: false,
    });
    expect(result.count).toBe(4);
    expect(result.top1).toBe(counts.top1 / 4);
    expect(result.top5).toBe(counts.top5 / 4);
    expect(result.loss).toBeCloseTo(counts.nll / 4, 5);
    expect(model.isTraining).toBe(true); // the mode is restored
    // The centre crop alone: the model's 24 px centre of the 30 px images.
    const centre = await evaluate(model, [batch as { images: Tensor; labels: Tensor }], {
      disposeBatches: false,
    });
    const centreProbabilities = noGrad(() => {
      model.eval();
      const p = softmax(model.forward(slice(images, [0, 0, 3, 3], [4, 1, 24, 24])), 1).dataSync();
      model.train();
      return p;
    });
    expect(centre.loss).toBeCloseTo(topKCounts(centreProbabilities, [0, 1, 2, 5], 6).nll / 4, 5);
  }, 60_000);
});

describe('predict and features', () => {
  it('predict resolves with the top-k classes by softmax probability with their names', async () => {
    const model = mini();
    const [batch] = syntheticBars({ count: 1, size: 24, seed: 2 });
    const image = slice(batch?.images as Tensor, [0], [1]).reshape([1, 24, 24]);
    const names = ['a', 'b', 'c', 'd', 'e', 'f'];
    const top = await predict(model, image, { topK: 3, classNames: names });
    const probabilities = noGrad(() => {
      model.eval();
      return Array.from(softmax(model.forward(image.reshape([1, 1, 24, 24])), 1).dataSync());
    });
    const order = probabilities.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]);
    expect(top.map((t) => t.index)).toEqual(order.slice(0, 3).map(([, i]) => i));
    expect(top.map((t) => t.label)).toEqual(order.slice(0, 3).map(([, i]) => names[i]));
    assertClose(
      top.map((t) => t.probability),
      order.slice(0, 3).map(([p]) => p),
      { atol: 1e-7 },
    );
    model.train();
    expect((await predict(model, image))[0]?.label).toMatch(/^class \d$/);
    await expect(predict(model, image, { classNames: ['x'] })).rejects.toThrow(
      /classNames has 1 names but the model has 6 classes/,
    );
    await expect(
      predict(model, tensor(new Float32Array(3 * 24 * 24), [3, 24, 24])),
    ).rejects.toThrow(/expected one image \[1, H, W\] or \[1, 1, H, W\], got \[3, 24, 24\]/);
    expect(model.isTraining).toBe(true); // the mode is restored, after an error too
  });

  it('predict runs on gpu.js webasm-threads (no synchronous reads) exactly as on webasm', async () => {
    const ranked = () => {
      const [batch] = syntheticBars({ count: 1, size: 24, seed: 2 });
      return predict(mini(), batch?.images as Tensor, { topK: 6 });
    };
    const threaded = await onBackend('webasm-threads', ranked);
    expect(threaded).toHaveLength(6);
    expect(threaded).toEqual(await onBackend('webasm', ranked));
  }, 60_000);

  it('features gives conv1 maps after ReLU and fc7 features', () => {
    const model = mini();
    const [batch] = syntheticBars({ count: 2, size: 24, seed: 2 });
    const images = batch?.images as Tensor;
    const conv1 = features(model, images, 'conv1');
    expect(conv1.shape).toEqual([2, 16, 24, 24]);
    expect(Math.min(...conv1.dataSync())).toBe(0); // after ReLU
    const fc7 = features(model, images, 'fc7');
    expect(fc7.shape).toEqual([2, 16]);
    const fc8 = features(model, images, 'fc8');
    const logits = noGrad(() => model.eval().forward(images));
    expect(Array.from(fc8.dataSync())).toEqual(Array.from(logits.dataSync()));
    expect(features(model, images, 'features.3').shape).toEqual([2, 16, 11, 11]);
  });

  it('names the 1000 ImageNet classes by default for a 1000-class model', async () => {
    expect(IMAGENET_CLASSES).toHaveLength(1000);
    // ImageNet has one name twice: 134 is the bird, 517 the machine.
    expect(new Set(IMAGENET_CLASSES).size).toBe(999);
    expect([IMAGENET_CLASSES[134], IMAGENET_CLASSES[517]]).toEqual(['crane', 'crane']);
    expect(IMAGENET_CLASSES[0]).toBe('tench, Tinca tinca');
    expect(IMAGENET_CLASSES[999]).toBe('toilet tissue, toilet paper, bathroom tissue');
    const model = alexnet({
      variant: 'mini',
      inputSize: 24,
      inChannels: 1,
      numClasses: 1000,
      hidden: 16,
    });
    const [batch] = syntheticBars({ count: 1, size: 24, seed: 2 });
    const [best] = await predict(model, batch?.images as Tensor, { topK: 1 });
    expect(best?.label).toBe(IMAGENET_CLASSES[best?.index ?? -1]);
  });
});
