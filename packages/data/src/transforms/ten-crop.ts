import type { Generator } from '@gpunet/tensor';
import type { Image } from '../image.js';
import type { Transform } from '../transform.js';
import { centerCropImage } from './center-crop.js';
import { type CropSize, checkCropFits, cropDims, cropImage } from './crop.js';
import { horizontalFlipImage } from './random-horizontal-flip.js';

/** The four corners and the centre, in torchvision `five_crop` order: tl, tr, bl, br, centre. */
export function fiveCropImage(image: Image, height: number, width: number): Image[] {
  checkCropFits('tenCrop', image, height, width);
  const bottom = image.height - height;
  const right = image.width - width;
  return [
    cropImage(image, 0, 0, height, width),
    cropImage(image, 0, right, height, width),
    cropImage(image, bottom, 0, height, width),
    cropImage(image, bottom, right, height, width),
    centerCropImage(image, height, width),
  ];
}

/**
 * The paper's test-time crops (torchvision `TenCrop`): the five crops of the image, then the five
 * crops of its mirror image, ten images in all. Collate stacks them as `[batch, 10, C, H, W]`.
 */
export function tenCrop(size: CropSize): Transform {
  const [h, w] = cropDims('tenCrop', size);
  return {
    name: 'tenCrop',
    options: { size },
    apply: (image: Image, _random: Generator) => [
      ...fiveCropImage(image, h, w),
      ...fiveCropImage(horizontalFlipImage(image), h, w),
    ],
  };
}
