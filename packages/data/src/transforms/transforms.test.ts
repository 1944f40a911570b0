import { Generator } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { createImage, type Image } from '../image.js';
import { centerCrop } from './center-crop.js';
import { compose } from './compose.js';
import { normalize } from './normalize.js';
import { IMAGENET_PCA, pcaLighting, pcaLightingOffset } from './pca-lighting.js';
import { randomCrop } from './random-crop.js';
import { randomHorizontalFlip } from './random-horizontal-flip.js';
import { reviveTransform } from './registry.js';
import { resize, resizeImage, resizeOutputSize } from './resize.js';
import { subtractMeanImage, subtractMeanPixel } from './subtract-mean.js';
import { tenCrop } from './ten-crop.js';
import { toTensor } from './to-tensor.js';

const g = () => new Generator(7);
/** A 1-channel uint8 image whose pixel values are 0, 1, 2, ... in row-major order. */
const ramp = (width: number, height: number): Image =>
  createImage(
    Uint8Array.from({ length: width * height }, (_, i) => i),
    width,
    height,
    1,
  );
const single = (result: Image | Image[]): Image => {
  if (Array.isArray(result)) throw new Error('expected one image');
  return result;
};
const values = (image: Image) => Array.from(image.data);

describe('resize', () => {
  it('upscales 2 -> 4 pixels with half-pixel bilinear weights: [0, 100] -> [0, 25, 75, 100]', () => {
    const image = createImage(Uint8Array.from([0, 100]), 2, 1, 1);
    expect(values(resizeImage(image, 1, 4))).toEqual([0, 25, 75, 100]);
  });

  it('downscales 4 -> 2 pixels with a widened triangle filter (antialiased)', () => {
    const image = createImage(Float32Array.from([0, 40, 80, 120]), 4, 1, 1);
    // out[0]: taps x=0,1,2 weights .75,.75,.25 / 1.75; out[1]: taps x=1,2,3 weights .25,.75,.75 / 1.75.
    const out = values(resizeImage(image, 1, 2));
    expect(out[0]).toBeCloseTo(50 / 1.75, 4);
    expect(out[1]).toBeCloseTo(160 / 1.75, 4);
  });

  it('scales the shorter side to size and the longer side to floor(size * long / short)', () => {
    expect(resizeOutputSize(300, 400, 256)).toEqual([256, 341]);
    expect(resizeOutputSize(500, 375, 256)).toEqual([341, 256]);
    expect(resizeOutputSize(10, 20, [7, 9])).toEqual([7, 9]);
    const out = single(resize(4).apply(ramp(8, 6), g()));
    expect([out.height, out.width]).toEqual([4, 5]);
  });

  it('gives the same pixels for hwc and chw layouts of one image', () => {
    const hwc = createImage(
      Uint8Array.from({ length: 5 * 4 * 3 }, (_, i) => (i * 37) % 256),
      5,
      4,
      3,
      'hwc',
    );
    const chw = createImage(new Uint8Array(60), 5, 4, 3, 'chw');
    for (let p = 0; p < 20; p++)
      for (let c = 0; c < 3; c++) chw.data[c * 20 + p] = hwc.data[p * 3 + c];
    const a = resizeImage(hwc, 3, 7);
    const b = resizeImage(chw, 3, 7);
    for (let p = 0; p < 21; p++)
      for (let c = 0; c < 3; c++) expect(b.data[c * 21 + p]).toBe(a.data[p * 3 + c]);
  });

  it('keeps a constant image constant', () => {
    const image = createImage(new Uint8Array(30 * 20 * 3).fill(77), 30, 20, 3);
    expect(new Set(values(resizeImage(image, 11, 17)))).toEqual(new Set([77]));
  });
});

describe('crops', () => {
  it('centerCrop(3) of a 5x5 ramp starts at row 1, column 1', () => {
    expect(values(single(centerCrop(3).apply(ramp(5, 5), g())))).toEqual([
      6, 7, 8, 11, 12, 13, 16, 17, 18,
    ]);
  });

  it('centerCrop rounds a half offset to even as torchvision does (4 -> 3 starts at 0)', () => {
    expect(values(single(centerCrop([1, 3]).apply(ramp(4, 1), g())))).toEqual([0, 1, 2]);
    // (6 - 3) / 2 = 1.5 rounds to 2.
    expect(values(single(centerCrop([1, 3]).apply(ramp(6, 1), g())))).toEqual([2, 3, 4]);
  });

  it('randomCrop takes the window at (integer(h - 2), integer(w - 2)) drawn from the generator', () => {
    const image = ramp(6, 5);
    for (let seed = 0; seed < 5; seed++) {
      const reference = new Generator(seed);
      const top = reference.integer(5 - 3 + 1);
      const left = reference.integer(6 - 3 + 1);
      const out = single(randomCrop(3).apply(image, new Generator(seed)));
      expect(values(out)).toEqual(
        [0, 1, 2].flatMap((dy) => [0, 1, 2].map((dx) => (top + dy) * 6 + left + dx)),
      );
    }
  });

  it('randomCrop reaches every offset of a 4x4 -> 3x3 crop', () => {
    const corners = new Set<number>();
    const random = new Generator(1);
    for (let i = 0; i < 200; i++)
      corners.add(single(randomCrop(3).apply(ramp(4, 4), random)).data[0]);
    expect([...corners].sort((a, b) => a - b)).toEqual([0, 1, 4, 5]);
  });

  it('randomCrop larger than the image names both sizes', () => {
    expect(() => randomCrop(227).apply(ramp(200, 300), g())).toThrow(
      'randomCrop: crop 227x227 (HxW) is larger than the image 300x200x1 (HxWxC) uint8 hwc',
    );
  });

  it('tenCrop gives the 4 corners and centre, then the same of the mirror image', () => {
    const crops = tenCrop(2).apply(ramp(3, 3), g());
    expect(Array.isArray(crops) && crops.map(values)).toEqual([
      [0, 1, 3, 4],
      [1, 2, 4, 5],
      [3, 4, 6, 7],
      [4, 5, 7, 8],
      [0, 1, 3, 4],
      [2, 1, 5, 4],
      [1, 0, 4, 3],
      [5, 4, 8, 7],
      [4, 3, 7, 6],
      [2, 1, 5, 4],
    ]);
  });
});

describe('randomHorizontalFlip', () => {
  it('mirrors each row, keeping the channels of a pixel together', () => {
    const image = createImage(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3, 1, 3);
    expect(values(single(randomHorizontalFlip(1).apply(image, g())))).toEqual([
      7, 8, 9, 4, 5, 6, 1, 2, 3,
    ]);
    expect(values(single(randomHorizontalFlip(0).apply(image, g())))).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  it('flips when the generator draws below p', () => {
    let flips = 0;
    const random = new Generator(3);
    const reference = new Generator(3);
    for (let i = 0; i < 100; i++) {
      const flipped = single(randomHorizontalFlip(0.5).apply(ramp(2, 1), random)).data[0] === 1;
      expect(flipped).toBe(reference.uniform() < 0.5);
      flips += Number(flipped);
    }
    expect(flips).toBeGreaterThan(30);
    expect(flips).toBeLessThan(70);
  });
});

describe('toTensor, normalize, mean subtraction', () => {
  it('toTensor turns HWC uint8 into CHW float in [0, 1]', () => {
    const image = createImage(Uint8Array.from([255, 0, 51, 0, 255, 102]), 2, 1, 3);
    const out = single(toTensor().apply(image, g()));
    expect(out.layout).toBe('chw');
    expect(values(out).map((v) => Number(v.toFixed(6)))).toEqual([1, 0, 0, 1, 0.2, 0.4]);
  });

  it('normalize computes (x - mean) / std per channel', () => {
    const image = createImage(Float32Array.from([0.5, 0.5, 1, 0]), 2, 1, 2, 'chw');
    const out = values(
      single(normalize({ mean: [0.485, 0.5], std: [0.229, 0.25] }).apply(image, g())),
    );
    expect(out[0]).toBeCloseTo(0.015 / 0.229, 5);
    expect(out[1]).toBeCloseTo(0.015 / 0.229, 5);
    expect(out[2]).toBeCloseTo(2, 5);
    expect(out[3]).toBeCloseTo(-2, 5);
  });

  it('normalize refuses uint8 input and a mean of the wrong length', () => {
    expect(() => normalize({ mean: [0], std: [1] }).apply(ramp(2, 2), g())).toThrow(
      'normalize: expects a float32 image (apply toTensor first), got 2x2x1 (HxWxC) uint8 hwc',
    );
    const float = createImage(new Float32Array(12), 2, 2, 3, 'chw');
    expect(() => normalize({ mean: [0, 0], std: [1, 1] }).apply(float, g())).toThrow(
      'normalize: mean has 2 values but the image has 3 channels',
    );
  });

  it('subtractMeanPixel subtracts one value per channel in the image units', () => {
    const image = createImage(Uint8Array.from([100, 50, 25, 10, 20, 30]), 2, 1, 3);
    expect(values(single(subtractMeanPixel([10, 20, 30]).apply(image, g())))).toEqual([
      90, 30, -5, 0, 0, 0,
    ]);
  });

  it('subtractMeanImage subtracts pixel by pixel across layouts and names mismatched shapes', () => {
    const image = createImage(Uint8Array.from([10, 20, 30, 40]), 2, 1, 2, 'hwc');
    const mean = createImage(Float32Array.from([1, 3, 2, 4]), 2, 1, 2, 'chw'); // c0: [1, 3], c1: [2, 4]
    expect(values(single(subtractMeanImage(mean).apply(image, g())))).toEqual([9, 18, 27, 36]);
    expect(() => subtractMeanImage(mean).apply(ramp(3, 3), g())).toThrow(
      'subtractMeanImage: mean image is 1x2x2 (HxWxC) float32 chw but the input is 3x3x1 (HxWxC) uint8 hwc',
    );
  });
});

describe('pcaLighting', () => {
  it('offset for alphas [1, 0, 0] is the first eigenvector times 0.2175', () => {
    const offset = pcaLightingOffset([1, 0, 0]);
    expect(offset[0]).toBeCloseTo(-0.5675 * 0.2175, 8);
    expect(offset[1]).toBeCloseTo(-0.5808 * 0.2175, 8);
    expect(offset[2]).toBeCloseTo(-0.5836 * 0.2175, 8);
  });

  it('adds sum_i p_i * alpha_i * lambda_i to every pixel, alpha_i = 0.1 * normal() drawn once per image', () => {
    const data = Float32Array.from({ length: 3 * 4 * 5 }, (_, i) => (i % 7) / 7);
    const image = createImage(data, 5, 4, 3, 'chw');
    const reference = new Generator(11);
    const alphas = [reference.normal() * 0.1, reference.normal() * 0.1, reference.normal() * 0.1];
    const expected = [0, 1, 2].map((c) =>
      [0, 1, 2].reduce(
        (s, i) => s + IMAGENET_PCA.eigenvectors[c][i] * alphas[i] * IMAGENET_PCA.eigenvalues[i],
        0,
      ),
    );
    const out = single(pcaLighting().apply(image, new Generator(11)));
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 20; p++)
        expect(out.data[c * 20 + p] - data[c * 20 + p]).toBeCloseTo(expected[c], 6);
    }
    expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e-4);
  });

  it('needs a float RGB image', () => {
    expect(() => pcaLighting().apply(ramp(2, 2), g())).toThrow(
      'pcaLighting: expects a float32 image',
    );
  });
});

describe('compose and workers', () => {
  const pipeline = compose([
    resize(6),
    randomCrop(4),
    randomHorizontalFlip(),
    toTensor(),
    pcaLighting(),
    normalize({ mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] }),
  ]);
  const rgb = createImage(
    Uint8Array.from({ length: 9 * 7 * 3 }, (_, i) => (i * 53) % 256),
    9,
    7,
    3,
  );

  it('runs the chain left to right: AlexNet training pipeline gives a 3x4x4 float CHW image', () => {
    const out = single(pipeline.apply(rgb, g()));
    expect([out.channels, out.height, out.width, out.layout]).toEqual([3, 4, 4, 'chw']);
    expect(out.data).toBeInstanceOf(Float32Array);
  });

  it('a transform rebuilt from its cloned spec gives identical pixels (as on a worker)', () => {
    const spec = structuredClone({ name: pipeline.name, options: pipeline.options });
    const revived = reviveTransform(spec);
    expect(values(single(revived.apply(rgb, g())))).toEqual(
      values(single(pipeline.apply(rgb, g()))),
    );
  });

  it('runs the rest of the chain on each of tenCrop ten images', () => {
    const out = compose([tenCrop(3), toTensor()]).apply(rgb, g());
    expect(Array.isArray(out) && out.map((im) => [im.layout, im.width, im.height])).toEqual(
      Array(10).fill(['chw', 3, 3]),
    );
  });
});
