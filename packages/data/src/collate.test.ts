import { describe, expect, it } from 'vitest';
import { collate } from './collate.js';
import { createImage } from './image.js';
import { mixSeed, sampleGenerator } from './internal/seed.js';

describe('collate', () => {
  it('stacks CHW float images as NCHW and converts HWC uint8 as toTensor would', () => {
    const chw = createImage(Float32Array.from([1, 2, 3, 4]), 2, 1, 2, 'chw');
    const hwc = createImage(Uint8Array.from([255, 0, 51, 102]), 2, 1, 2, 'hwc');
    const { images, labels } = collate([
      { image: chw, label: 3 },
      { image: hwc, label: 1 },
    ]);
    expect(images.shape).toEqual([2, 2, 1, 2]);
    expect(Array.from(images.dataSync()).map((v) => Number(v.toFixed(4)))).toEqual([
      1, 2, 3, 4, 1, 0.2, 0, 0.4,
    ]);
    expect(Array.from(labels.dataSync())).toEqual([3, 1]);
  });

  it('names the sample whose shape differs', () => {
    const a = createImage(new Float32Array(12), 2, 2, 3, 'chw');
    const b = createImage(new Float32Array(18), 3, 2, 3, 'chw');
    expect(() =>
      collate([
        { image: a, label: 0 },
        { image: b, label: 0 },
      ]),
    ).toThrow(
      'collate: sample 1 image is 2x3x3 (HxWxC) float32 chw but sample 0 is 2x2x3 (HxWxC) float32 chw; resize or crop to one size',
    );
  });
});

describe('sample seeds', () => {
  it('depend on seed, epoch and index, each', () => {
    const first = (s: number, e: number, i: number) => sampleGenerator(s, e, i).nextUint32();
    const values = new Set([
      first(0, 0, 0),
      first(1, 0, 0),
      first(0, 1, 0),
      first(0, 0, 1),
      first(0, 1, 1),
    ]);
    expect(values.size).toBe(5);
    expect(first(3, 4, 5)).toBe(first(3, 4, 5));
    expect(mixSeed(1, 2)).not.toBe(mixSeed(2, 1));
  });
});
