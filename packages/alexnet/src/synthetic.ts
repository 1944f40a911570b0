import { Generator, tensor } from '@gpunet/tensor';
import type { Batch } from './evaluate.js';

/** Options of `syntheticBars`. */
export interface SyntheticBarsOptions {
  /** Images in all. Default 256. */
  count?: number;
  /** Images per batch (the last batch may be smaller). Default 32. */
  batchSize?: number;
  /** Image side in pixels. Default 28. */
  size?: number;
  /** Channels (the bar is drawn in all of them). Default 1. */
  channels?: number;
  /** Standard deviation of the Gaussian pixel noise. Default 0.3. */
  noise?: number;
  /** Seed of the images, positions and noise. Default 0. */
  seed?: number;
}

/** The classes of `syntheticBars`, by label. */
export const SYNTHETIC_BAR_CLASSES = [
  'horizontal',
  'vertical',
  'diagonal',
  'antidiagonal',
] as const;

/**
 * A seeded toy task for the mini AlexNet: `[N, channels, size, size]` images holding one
 * 2-pixel-wide bar, horizontal (label 0), vertical (1), diagonal `\` (2) or anti-diagonal `/`
 * (3), at a random offset, on Gaussian noise; labels cycle 0, 1, 2, 3. Returns fresh tensors
 * in batches (a `BatchSource`; the trainer disposes what it consumes).
 */
export function syntheticBars(options: SyntheticBarsOptions = {}): Batch[] {
  const count = options.count ?? 256;
  const batchSize = options.batchSize ?? 32;
  const size = options.size ?? 28;
  const channels = options.channels ?? 1;
  const noise = options.noise ?? 0.3;
  const generator = new Generator(options.seed ?? 0);
  const batches: Batch[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const pixels = new Float32Array(n * channels * size * size);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const label = (start + i) % 4;
      labels[i] = label;
      const offset = generator.integer(size - 8) + 4 - Math.floor(size / 2);
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const distance =
            label === 0
              ? y - (size / 2 + offset)
              : label === 1
                ? x - (size / 2 + offset)
                : label === 2
                  ? (x - y - offset) / Math.SQRT2
                  : (x + y - size + 1 - offset) / Math.SQRT2;
          const value = Math.abs(distance) < 1 ? 1 : 0;
          for (let c = 0; c < channels; c++) {
            pixels[((i * channels + c) * size + y) * size + x] = value + noise * generator.normal();
          }
        }
      }
    }
    batches.push({
      images: tensor(pixels, [n, channels, size, size]),
      labels: tensor(labels, [n]),
    });
  }
  return batches;
}
