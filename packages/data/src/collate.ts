import { type Tensor, tensor } from '@gpunet/tensor';
import type { Sample } from './dataset.js';
import { describeImage, type Image } from './image.js';
import { toTensorImage } from './transforms/to-tensor.js';

/** A batch: images as float32 NCHW (or `[N, crops, C, H, W]` after `tenCrop`) and int32 labels `[N]`. */
export interface Batch {
  images: Tensor;
  labels: Tensor;
}

function asChwFloat(image: Image): Float32Array {
  return image.layout === 'chw' && image.data instanceof Float32Array
    ? image.data
    : toTensorImage(image).data;
}

/**
 * Stacks samples into a batch (PyTorch `default_collate`). Images are converted to CHW float32 as
 * `toTensor` would (uint8 divided by 255) if no transform did it; all must share one shape.
 */
export function collate(samples: readonly Sample[]): Batch {
  if (samples.length === 0) throw new RangeError('collate: cannot make a batch of 0 samples');
  const first = samples[0].image;
  const crops = Array.isArray(first) ? first.length : 0;
  const ref = Array.isArray(first) ? first[0] : first;
  const per = ref.channels * ref.height * ref.width;
  const perSample = per * Math.max(crops, 1);
  const values = new Float32Array(samples.length * perSample);
  const labels = new Int32Array(samples.length);
  samples.forEach((sample, n) => {
    const images = Array.isArray(sample.image) ? sample.image : [sample.image];
    if ((Array.isArray(sample.image) ? images.length : 0) !== crops) {
      throw new RangeError(
        `collate: sample ${n} has ${images.length} crops but sample 0 has ${Math.max(crops, 1)}`,
      );
    }
    images.forEach((image, k) => {
      if (
        image.channels !== ref.channels ||
        image.height !== ref.height ||
        image.width !== ref.width
      ) {
        throw new RangeError(
          `collate: sample ${n} image is ${describeImage(image)} but sample 0 is ${describeImage(ref)}; resize or crop to one size`,
        );
      }
      values.set(asChwFloat(image), n * perSample + k * per);
    });
    labels[n] = sample.label;
  });
  const shape = crops
    ? [samples.length, crops, ref.channels, ref.height, ref.width]
    : [samples.length, ref.channels, ref.height, ref.width];
  return {
    images: tensor(values, shape),
    labels: tensor(labels, [samples.length], { dtype: 'int32' }),
  };
}

/** Turns a batch's samples into what the loader yields (default `collate`). */
export type Collate<B = Batch> = (samples: readonly Sample[]) => B;
