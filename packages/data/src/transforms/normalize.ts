import type { Generator } from '@gpunet/tensor';
import { type Image, stridesOf } from '../image.js';
import type { Transform } from '../transform.js';
import { requireFloat, requirePerChannel } from './float-input.js';

/** `normalize` options: one mean and one standard deviation per channel. */
export interface NormalizeOptions {
  mean: number[];
  std: number[];
}

/** ImageNet's per-channel mean and std for RGB in [0, 1], as torchvision's models use. */
export const IMAGENET_MEAN_STD: Readonly<NormalizeOptions> = Object.freeze({
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
});

/** `(x - mean[c]) / std[c]` for every value of channel c (torchvision `Normalize`); float images only. */
export function normalize(options: NormalizeOptions): Transform {
  const { mean, std } = options;
  if (std.some((s) => s === 0))
    throw new RangeError(`normalize: std must not contain 0, got ${JSON.stringify(std)}`);
  return {
    name: 'normalize',
    options: { mean: [...mean], std: [...std] },
    apply(image: Image, _random: Generator): Image {
      const input = requireFloat('normalize', image);
      requirePerChannel('normalize', 'mean', mean, image);
      requirePerChannel('normalize', 'std', std, image);
      const out = new Float32Array(input.length);
      const s = stridesOf(image);
      for (let c = 0; c < image.channels; c++) {
        const m = mean[c];
        const inv = 1 / std[c];
        for (let p = 0; p < image.width * image.height; p++) {
          // Rows are unpadded in both layouts, so pixel p = y * width + x sits at p * s.x.
          const i = c * s.c + p * s.x;
          out[i] = (input[i] - m) * inv;
        }
      }
      return { ...image, data: out };
    },
  };
}
