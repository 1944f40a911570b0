import type { Generator } from '@gpunet/tensor';
import type { Image } from '../image.js';
import type { Transform } from '../transform.js';

/**
 * Converts to planar CHW float32; uint8 values are divided by 255 into [0, 1], float values are
 * kept (torchvision `ToTensor`). The result is still an `Image`; collate makes the tensor.
 */
export function toTensorImage(image: Image): Image & { data: Float32Array } {
  const { width, height, channels } = image;
  const plane = width * height;
  const out = new Float32Array(plane * channels);
  const scale = image.data instanceof Uint8Array ? 1 / 255 : 1;
  const input = image.data;
  if (image.layout === 'chw') {
    for (let i = 0; i < out.length; i++) out[i] = input[i] * scale;
  } else {
    for (let p = 0; p < plane; p++) {
      for (let c = 0; c < channels; c++) out[c * plane + p] = input[p * channels + c] * scale;
    }
  }
  return { data: out, width, height, channels, layout: 'chw' };
}

/** HWC uint8 -> CHW float32 in [0, 1] (torchvision `ToTensor`). */
export function toTensor(): Transform {
  return {
    name: 'toTensor',
    options: {},
    apply: (image: Image, _random: Generator) => toTensorImage(image),
  };
}
