import { describe, expect, it } from 'vitest';
import type { Image } from './image.js';
import { SYNTHETIC_CLASSES, SyntheticImages } from './synthetic.js';

const pixels = async (ds: SyntheticImages, i: number) =>
  Array.from(((await ds.read(i)).image as Image).data);

describe('SyntheticImages', () => {
  it('is balanced: sample i has label i mod numClasses', async () => {
    const ds = new SyntheticImages({ length: 9, numClasses: 3, size: 16 });
    const labels = await Promise.all(
      [...Array(9).keys()].map(async (i) => (await ds.read(i)).label),
    );
    expect(labels).toEqual([0, 1, 2, 0, 1, 2, 0, 1, 2]);
    expect(ds.classes).toEqual(SYNTHETIC_CLASSES.slice(0, 3));
  });

  it('gives the same pixels for the same seed and different pixels for another seed', async () => {
    const a = new SyntheticImages({ seed: 1, size: 16 });
    expect(await pixels(a, 4)).toEqual(await pixels(new SyntheticImages({ seed: 1, size: 16 }), 4));
    expect(await pixels(a, 4)).not.toEqual(
      await pixels(new SyntheticImages({ seed: 2, size: 16 }), 4),
    );
  });

  it('draws the class colour on a dark background: the disk class is mostly red where it is bright', async () => {
    const ds = new SyntheticImages({ size: 32 });
    const data = await pixels(ds, 0); // class 0: red disk
    let bright = 0;
    let red = 0;
    for (let p = 0; p < 32 * 32; p++) {
      const [r, g, b] = data.slice(p * 3, p * 3 + 3);
      if (r + g + b > 300) {
        bright++;
        if (r > g + 80 && r > b + 80) red++;
      }
    }
    // The disk's radius is 0.22..0.37 of the side: between 15% and 43% of the pixels.
    expect(bright / 1024).toBeGreaterThan(0.12);
    expect(bright / 1024).toBeLessThan(0.45);
    expect(red / bright).toBeGreaterThan(0.95);
  });

  it('names bad options', () => {
    expect(() => new SyntheticImages({ numClasses: 11 })).toThrow(
      'SyntheticImages: numClasses must be 2..10, got 11',
    );
  });
});
