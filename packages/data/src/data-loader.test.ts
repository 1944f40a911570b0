import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Batch } from './collate.js';
import type { Dataset, Sample } from './dataset.js';
import { createImage } from './image.js';
import { tempDir } from './internal/fixtures.js';
import { DataLoader } from './node/data-loader.js';
import { ImageFolder } from './node/image-folder.js';
import { writeImageFolder } from './node/write-image-folder.js';
import { SyntheticImages } from './synthetic.js';
import { compose } from './transforms/compose.js';
import { normalize } from './transforms/normalize.js';
import { pcaLighting } from './transforms/pca-lighting.js';
import { randomCrop } from './transforms/random-crop.js';
import { randomHorizontalFlip } from './transforms/random-horizontal-flip.js';
import { resize } from './transforms/resize.js';
import { tenCrop } from './transforms/ten-crop.js';
import { toTensor } from './transforms/to-tensor.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await writeImageFolder(
    new SyntheticImages({ length: 24, numClasses: 3, size: 40, seed: 5 }),
    join(dir, 'jpegs'),
  );
  await writeImageFolder(
    new SyntheticImages({ length: 6, numClasses: 2, size: 16 }),
    join(dir, 'bad'),
    { format: 'png' },
  );
  await writeFile(
    join(dir, 'bad', 'disk', 'broken.png'),
    Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]),
  );
});
afterAll(() => cleanup());

/** AlexNet's training augmentation at a small scale: resize 36, random 32 crop, flip, lighting, normalize. */
const training = () =>
  compose([
    resize(36),
    randomCrop(32),
    randomHorizontalFlip(),
    toTensor(),
    pcaLighting(),
    normalize({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
  ]);

async function collect<B>(loader: AsyncIterable<B>): Promise<B[]> {
  const out: B[] = [];
  for await (const batch of loader) out.push(batch);
  return out;
}
const flat = (batches: Batch[]) =>
  batches.map((b) => [Array.from(b.labels.dataSync()), Array.from(b.images.dataSync())]);

describe('DataLoader batching', () => {
  it('yields NCHW float32 images and int32 labels, with a short last batch', async () => {
    const loader = new DataLoader(new SyntheticImages({ length: 10, numClasses: 4, size: 8 }), {
      batchSize: 4,
    });
    const batches = await collect(loader);
    expect(loader.length).toBe(3);
    expect(batches.map((b) => b.images.shape)).toEqual([
      [4, 3, 8, 8],
      [4, 3, 8, 8],
      [2, 3, 8, 8],
    ]);
    expect(batches.map((b) => Array.from(b.labels.dataSync()))).toEqual([
      [0, 1, 2, 3],
      [0, 1, 2, 3],
      [0, 1],
    ]);
    expect([batches[0].images.dtype, batches[0].labels.dtype]).toEqual(['float32', 'int32']);
  });

  it('dropLast drops the short batch', async () => {
    const loader = new DataLoader(new SyntheticImages({ length: 10, size: 8 }), {
      batchSize: 4,
      dropLast: true,
    });
    expect(loader.length).toBe(2);
    expect((await collect(loader)).length).toBe(2);
  });

  it('shuffles into a permutation fixed by (seed, epoch): same seed repeats, next epoch differs', async () => {
    const ds = new SyntheticImages({ length: 12, numClasses: 10, size: 8 });
    const a = new DataLoader(ds, { batchSize: 12, shuffle: true, seed: 9 });
    const b = new DataLoader(ds, { batchSize: 12, shuffle: true, seed: 9 });
    expect(a.order(0)).toEqual(b.order(0));
    expect([...a.order(0)].sort((x, y) => x - y)).toEqual([...Array(12).keys()]);
    expect(a.order(1)).not.toEqual(a.order(0));
    expect(new DataLoader(ds, { shuffle: true, seed: 10 }).order(0)).not.toEqual(a.order(0));
    const epoch0 = flat(await collect(a));
    const epoch1 = flat(await collect(a));
    expect(flat(await collect(b))).toEqual(epoch0);
    expect(epoch1).not.toEqual(epoch0);
    b.setEpoch(1);
    expect(flat(await collect(b))).toEqual(epoch1);
  });

  it('stacks tenCrop samples as [N, 10, C, H, W]', async () => {
    const ds = new SyntheticImages({
      length: 3,
      size: 12,
      transform: compose([tenCrop(8), toTensor()]),
    });
    const [batch] = await collect(new DataLoader(ds, { batchSize: 3 }));
    expect(batch.images.shape).toEqual([3, 10, 3, 8, 8]);
  });

  it('runs a plain Dataset in-process, loading the awaited batch and at most prefetch more', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const ds: Dataset<Sample> = {
      length: 12,
      async get(index) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 2));
        inFlight--;
        return { image: createImage(new Float32Array([index]), 1, 1, 1, 'chw'), label: index };
      },
    };
    const batches = await collect(new DataLoader(ds, { batchSize: 2, prefetch: 1 }));
    expect(batches.map((b) => b.images.dataSync()[1])).toEqual([1, 3, 5, 7, 9, 11]);
    expect(maxInFlight).toBe(4);
    maxInFlight = 0;
    await collect(new DataLoader(ds, { batchSize: 2, prefetch: 0 }));
    expect(maxInFlight).toBe(2);
  });

  it('names the bad option', () => {
    const ds = new SyntheticImages({ length: 2 });
    expect(() => new DataLoader(ds, { batchSize: 0 })).toThrow(
      'DataLoader: batchSize must be an integer >= 1, got 0',
    );
    const custom = { name: 'mine', options: {}, apply: (im: never) => im };
    expect(
      () => new DataLoader(new SyntheticImages({ transform: custom }), { numWorkers: 1 }),
    ).toThrow("DataLoader: transform 'mine' cannot be rebuilt on a worker thread");
  });
});

describe('DataLoader workers', () => {
  it('gives identical batches with 0 and 2 workers for the same seed, epoch after epoch', async () => {
    const ds = new ImageFolder(join(dir, 'jpegs'), { transform: training() });
    const inProcess = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42 });
    const threaded = new DataLoader(ds, { batchSize: 5, shuffle: true, seed: 42, numWorkers: 2 });
    try {
      for (let epoch = 0; epoch < 2; epoch++) {
        const a = await collect(inProcess);
        const b = await collect(threaded);
        expect(a.map((x) => x.images.shape)).toEqual([
          ...Array(4).fill([5, 3, 32, 32]),
          [4, 3, 32, 32],
        ]);
        expect(flat(b)).toEqual(flat(a));
      }
    } finally {
      await threaded.close();
    }
  });

  it('throws naming the corrupt file, on workers too', async () => {
    const ds = new ImageFolder(join(dir, 'bad'));
    const broken = join(dir, 'bad', 'disk', 'broken.png');
    await expect(collect(new DataLoader(ds, { batchSize: 4 }))).rejects.toThrow(
      `${broken}: cannot decode image (7 bytes)`,
    );
    const threaded = new DataLoader(ds, { batchSize: 4, numWorkers: 1 });
    await expect(collect(threaded)).rejects.toThrow(`${broken}: cannot decode image (7 bytes)`);
    await threaded.close();
  });

  it("onError: 'skip' leaves bad files out and reports them at the end of the epoch", async () => {
    const ds = new ImageFolder(join(dir, 'bad'));
    const broken = join(dir, 'bad', 'disk', 'broken.png');
    for (const numWorkers of [0, 2]) {
      const reports: unknown[] = [];
      const loader = new DataLoader(ds, {
        batchSize: 4,
        numWorkers,
        onError: 'skip',
        onEpochEnd: (r) => reports.push(r),
      });
      const batches = await collect(loader);
      await loader.close();
      expect(batches.map((b) => b.images.shape[0])).toEqual([3, 3]);
      expect(loader.skipped.map((s) => [s.index, s.source])).toEqual([[3, broken]]);
      expect(loader.skipped[0].message).toContain(`${broken}: cannot decode image (7 bytes)`);
      expect(reports).toEqual([{ epoch: 0, batches: 2, samples: 6, skipped: loader.skipped }]);
    }
  });
});
