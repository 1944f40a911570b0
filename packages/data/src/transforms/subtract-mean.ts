import type { Generator } from '@gpunet/tensor';
import { describeImage, type Image, stridesOf } from '../image.js';
import type { Transform } from '../transform.js';
import { requirePerChannel } from './float-input.js';

function toFloat(image: Image, mean: (c: number, y: number, x: number) => number): Image {
  const { width, height, channels } = image;
  const s = stridesOf(image);
  const out = new Float32Array(image.data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const i = y * s.y + x * s.x + c * s.c;
        out[i] = image.data[i] - mean(c, y, x);
      }
    }
  }
  return { ...image, data: out };
}

/**
 * Subtracts one value per channel, in the image's own units (e.g. 0..255 before `toTensor`, as
 * Caffe's AlexNet does with the ImageNet mean pixel). Returns a float32 image.
 */
export function subtractMeanPixel(mean: number[]): Transform {
  return {
    name: 'subtractMeanPixel',
    options: { mean: [...mean] },
    apply(image: Image, _random: Generator): Image {
      requirePerChannel('subtractMeanPixel', 'mean', mean, image);
      return toFloat(image, (c) => mean[c]);
    },
  };
}

/**
 * Subtracts a mean image pixel by pixel (the paper: "subtracting the mean activity over the
 * training set from each pixel"). The mean image must have the input's height, width and
 * channels; its layout may differ. Returns a float32 image.
 */
export function subtractMeanImage(meanImage: Image): Transform {
  const m = stridesOf(meanImage);
  return {
    name: 'subtractMeanImage',
    options: { meanImage },
    apply(image: Image, _random: Generator): Image {
      if (
        image.width !== meanImage.width ||
        image.height !== meanImage.height ||
        image.channels !== meanImage.channels
      ) {
        throw new RangeError(
          `subtractMeanImage: mean image is ${describeImage(meanImage)} but the input is ${describeImage(image)}`,
        );
      }
      return toFloat(image, (c, y, x) => meanImage.data[y * m.y + x * m.x + c * m.c]);
    },
  };
}
