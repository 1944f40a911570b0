import { describe, expect, it } from 'vitest';
import type { Dataset, Sample } from './dataset.js';
import { createImage } from './image.js';
import { meanImage, meanPixel } from './mean.js';

const dataset = (images: ReturnType<typeof createImage>[]): Dataset<Sample> => ({
  length: images.length,
  get: async (i) => ({ image: images[i], label: 0 }),
});

describe('mean image and mean pixel', () => {
  it('averages value by value over the dataset', async () => {
    const a = createImage(Uint8Array.from([0, 10, 20, 30]), 2, 1, 2);
    const b = createImage(Uint8Array.from([100, 30, 40, 50]), 2, 1, 2);
    const mean = await meanImage(dataset([a, b]), { concurrency: 1 });
    expect(Array.from(mean.data)).toEqual([50, 20, 30, 40]);
    expect([mean.width, mean.height, mean.channels, mean.layout]).toEqual([2, 1, 2, 'hwc']);
  });

  it('averages each channel over all pixels of images of any size and layout', async () => {
    const a = createImage(Uint8Array.from([0, 10, 20, 30]), 2, 1, 2, 'hwc'); // c0: 0, 20; c1: 10, 30
    const b = createImage(Uint8Array.from([6, 60]), 1, 1, 2, 'chw'); // c0: 6; c1: 60
    expect(await meanPixel(dataset([a, b]))).toEqual([26 / 3, 100 / 3]);
  });

  it('names the sample whose size differs', async () => {
    const a = createImage(new Uint8Array(4), 2, 2, 1);
    const b = createImage(new Uint8Array(6), 3, 2, 1);
    await expect(meanImage(dataset([a, b]))).rejects.toThrow(
      'meanImage: sample 1 is 2x3x1 (HxWxC) uint8 hwc but sample 0 is 2x2x1 (HxWxC) uint8 hwc; resize and crop to one size first',
    );
  });
});
