export { centerCrop, centerCropImage } from './center-crop.js';
export { compose } from './compose.js';
export { type CropSize, cropImage } from './crop.js';
export { IMAGENET_MEAN_STD, type NormalizeOptions, normalize } from './normalize.js';
export {
  IMAGENET_PCA,
  type PcaLightingOptions,
  pcaLighting,
  pcaLightingOffset,
} from './pca-lighting.js';
export { randomCrop } from './random-crop.js';
export { horizontalFlipImage, randomHorizontalFlip } from './random-horizontal-flip.js';
export { isRevivable, reviveTransform } from './registry.js';
export { type ResizeOptions, resize, resizeImage, resizeOutputSize } from './resize.js';
export { subtractMeanImage, subtractMeanPixel } from './subtract-mean.js';
export { fiveCropImage, tenCrop } from './ten-crop.js';
export { toTensor, toTensorImage } from './to-tensor.js';
