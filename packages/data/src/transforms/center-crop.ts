import type { Generator } from '@gpunet/tensor';
import type { Image } from '../image.js';
import type { Transform } from '../transform.js';
import { type CropSize, checkCropFits, cropDims, cropImage } from './crop.js';

/** Python's `round`: halves go to the even neighbour, as torchvision's crop offsets do. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The centre `height` x `width` window of `image` (torchvision `center_crop` offsets). */
export function centerCropImage(image: Image, height: number, width: number): Image {
  checkCropFits('centerCrop', image, height, width);
  const top = roundHalfEven((image.height - height) / 2);
  const left = roundHalfEven((image.width - width) / 2);
  return cropImage(image, top, left, height, width);
}

/** Crops the centre (torchvision `CenterCrop`); `size` is a square side or `[height, width]`. */
export function centerCrop(size: CropSize): Transform {
  const [h, w] = cropDims('centerCrop', size);
  return {
    name: 'centerCrop',
    options: { size },
    apply: (image: Image, _random: Generator) => centerCropImage(image, h, w),
  };
}
