import type { Generator } from '@gpunet/tensor';
import type { Image } from '../image.js';
import type { Transform } from '../transform.js';
import { type CropSize, checkCropFits, cropDims, cropImage } from './crop.js';

/**
 * Crops a window at a uniformly random position (torchvision `RandomCrop` without padding):
 * the paper's random 224 (227) crops of the 256x256 image. Draws the row offset, then the column.
 */
export function randomCrop(size: CropSize): Transform {
  const [h, w] = cropDims('randomCrop', size);
  return {
    name: 'randomCrop',
    options: { size },
    apply(image: Image, random: Generator): Image {
      checkCropFits('randomCrop', image, h, w);
      const top = random.integer(image.height - h + 1);
      const left = random.integer(image.width - w + 1);
      return cropImage(image, top, left, h, w);
    },
  };
}
