import type { Generator } from '@gpunet/tensor';
import { emptyLike, type Image, stridesOf } from '../image.js';
import type { Transform } from '../transform.js';

/** Mirrors `image` left to right. */
export function horizontalFlipImage(image: Image): Image {
  const out = emptyLike(image, image.width, image.height);
  const s = stridesOf(image);
  const { width, height, channels } = image;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = y * s.y + x * s.x;
      const to = y * s.y + (width - 1 - x) * s.x;
      for (let c = 0; c < channels; c++) out.data[to + c * s.c] = image.data[from + c * s.c];
    }
  }
  return out;
}

/**
 * Flips horizontally with probability `p` (torchvision `RandomHorizontalFlip`, default 0.5).
 * Always draws one uniform number, so later transforms see the same stream either way.
 */
export function randomHorizontalFlip(p = 0.5): Transform {
  if (!(p >= 0 && p <= 1))
    throw new RangeError(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  return {
    name: 'randomHorizontalFlip',
    options: { p },
    apply: (image: Image, random: Generator) =>
      random.uniform() < p ? horizontalFlipImage(image) : image,
  };
}
