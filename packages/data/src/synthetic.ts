import { Generator } from '@gpunet/tensor';
import {
  checkIndex,
  getTransformed,
  type ImageDataset,
  type ImageDecoder,
  type RawSample,
  type Sample,
  type SampleContext,
} from './dataset.js';
import { DataError } from './errors.js';
import { mixSeed } from './internal/seed.js';
import type { Transform } from './transform.js';

/** The shapes of `SyntheticImages`, one per class, in label order. */
export const SYNTHETIC_CLASSES: readonly string[] = [
  'disk',
  'square',
  'horizontal-bar',
  'vertical-bar',
  'diagonal',
  'anti-diagonal',
  'cross',
  'ring',
  'triangle',
  'frame',
];

// A colour per class, so both shape and colour carry the label (learnable by a small conv net).
const PALETTE: readonly (readonly [number, number, number])[] = [
  [230, 60, 50],
  [60, 200, 70],
  [60, 90, 230],
  [230, 210, 60],
  [200, 70, 210],
  [60, 210, 210],
  [240, 140, 40],
  [240, 240, 240],
  [150, 100, 60],
  [120, 200, 140],
];

// Inside test of each shape in coordinates (u, v) scaled so the shape spans about [-1, 1].
const INSIDE: readonly ((u: number, v: number) => boolean)[] = [
  (u, v) => u * u + v * v < 1,
  (u, v) => Math.max(Math.abs(u), Math.abs(v)) < 0.8,
  (u, v) => Math.abs(v) < 0.3 && Math.abs(u) < 1,
  (u, v) => Math.abs(u) < 0.3 && Math.abs(v) < 1,
  (u, v) => Math.abs(u - v) < 0.4 && Math.abs(u + v) < 1.4,
  (u, v) => Math.abs(u + v) < 0.4 && Math.abs(u - v) < 1.4,
  (u, v) => (Math.abs(u) < 0.25 && Math.abs(v) < 1) || (Math.abs(v) < 0.25 && Math.abs(u) < 1),
  (u, v) => Math.hypot(u, v) > 0.6 && Math.hypot(u, v) < 1,
  (u, v) => v < 0.8 && Math.abs(u) < (v + 1) / 2,
  (u, v) => Math.max(Math.abs(u), Math.abs(v)) > 0.6 && Math.max(Math.abs(u), Math.abs(v)) < 0.95,
];

/** `SyntheticImages` options. */
export interface SyntheticImagesOptions {
  /** Number of samples (default 1000). */
  length?: number;
  /** Classes, 2..10 (default 10); sample i has label i mod numClasses. */
  numClasses?: number;
  /** Side of the square RGB images (default 32). */
  size?: number;
  /** Seeds every image; the same seed gives the same pixels (default 0). */
  seed?: number;
  transform?: Transform;
}

const noDecode: ImageDecoder = (image) =>
  Promise.reject(new DataError(image.source, 'synthetic samples are never encoded'));

/**
 * A seeded, learnable image classification task for tests and demos: class k is a coloured shape
 * (`SYNTHETIC_CLASSES[k]`: disk, square, bars, diagonals, cross, ring, triangle, frame) at a
 * random position and scale, with a jittered colour, on a noisy dark background. Images are HWC
 * uint8 RGB, made on demand from (seed, index).
 */
export class SyntheticImages implements ImageDataset {
  readonly length: number;
  readonly numClasses: number;
  readonly size: number;
  readonly seed: number;
  readonly classes: readonly string[];
  readonly transform: Transform | undefined;

  constructor(options: SyntheticImagesOptions = {}) {
    this.length = options.length ?? 1000;
    this.numClasses = options.numClasses ?? 10;
    this.size = options.size ?? 32;
    this.seed = options.seed ?? 0;
    this.transform = options.transform;
    if (
      !Number.isInteger(this.numClasses) ||
      this.numClasses < 2 ||
      this.numClasses > SYNTHETIC_CLASSES.length
    ) {
      throw new RangeError(
        `SyntheticImages: numClasses must be 2..${SYNTHETIC_CLASSES.length}, got ${this.numClasses}`,
      );
    }
    if (!Number.isInteger(this.size) || this.size < 8)
      throw new RangeError(`SyntheticImages: size must be an integer >= 8, got ${this.size}`);
    if (!Number.isInteger(this.length) || this.length < 0)
      throw new RangeError(`SyntheticImages: length must be an integer >= 0, got ${this.length}`);
    this.classes = SYNTHETIC_CLASSES.slice(0, this.numClasses);
  }

  /** The image for `index`, drawn from (seed, index). */
  async read(index: number): Promise<RawSample> {
    checkIndex('SyntheticImages', index, this.length);
    const label = index % this.numClasses;
    const random = new Generator(mixSeed(this.seed, index, 0x5eed));
    const n = this.size;
    const data = new Uint8Array(n * n * 3);
    const background = 20 + random.integer(60);
    const scale = n * (0.22 + 0.15 * random.uniform());
    const cx = scale + random.uniform() * (n - 2 * scale);
    const cy = scale + random.uniform() * (n - 2 * scale);
    const colour = PALETTE[label].map((c) =>
      Math.min(255, Math.max(0, c + random.integer(41) - 20)),
    );
    const inside = INSIDE[label];
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const isShape = inside((x + 0.5 - cx) / scale, (y + 0.5 - cy) / scale);
        for (let c = 0; c < 3; c++) {
          const noise = random.integer(31) - 15;
          const value = (isShape ? colour[c] : background) + noise;
          data[(y * n + x) * 3 + c] = Math.min(255, Math.max(0, value));
        }
      }
    }
    return {
      image: { data, width: n, height: n, channels: 3, layout: 'hwc' },
      label,
      source: `SyntheticImages#${index}`,
    };
  }

  /** The transformed sample; its augmentation is fixed by `context` (seed, epoch). */
  get(index: number, context?: SampleContext): Promise<Sample> {
    return getTransformed(this, index, context, noDecode);
  }
}
