import type { Dataset, Sample } from './dataset.js';
import { describeImage, type Image, stridesOf } from './image.js';

/** `meanImage` options. */
export interface MeanOptions {
  /** Samples read at once (default 8). */
  concurrency?: number;
}

async function forEachImage(
  dataset: Dataset<Sample>,
  options: MeanOptions,
  visit: (image: Image, index: number) => void,
): Promise<void> {
  const concurrency = options.concurrency ?? 8;
  for (let start = 0; start < dataset.length; start += concurrency) {
    const indices = Array.from(
      { length: Math.min(concurrency, dataset.length - start) },
      (_, k) => start + k,
    );
    const samples = await Promise.all(indices.map((i) => dataset.get(i)));
    samples.forEach((sample, k) => {
      if (Array.isArray(sample.image))
        throw new RangeError(
          `meanImage: sample ${indices[k]} has several crops; compute the mean before tenCrop`,
        );
      visit(sample.image, indices[k]);
    });
  }
}

/**
 * The mean image over a dataset, value by value, in the images' own units and layout (the
 * paper subtracts "the mean activity over the training set from each pixel"). Give the dataset
 * the deterministic part of the pipeline (e.g. `compose([resize(256), centerCrop(256)])`) so all
 * images share one size; then `subtractMeanImage(mean)`. Returns float32.
 */
export async function meanImage(
  dataset: Dataset<Sample>,
  options: MeanOptions = {},
): Promise<Image> {
  if (dataset.length === 0) throw new RangeError('meanImage: the dataset is empty');
  let sum: Float64Array | undefined;
  let first: Image | undefined;
  await forEachImage(dataset, options, (image, index) => {
    if (!first || !sum) {
      first = image;
      sum = new Float64Array(image.data.length);
    }
    if (
      image.width !== first.width ||
      image.height !== first.height ||
      image.channels !== first.channels ||
      image.layout !== first.layout
    ) {
      throw new RangeError(
        `meanImage: sample ${index} is ${describeImage(image)} but sample 0 is ${describeImage(first)}; resize and crop to one size first`,
      );
    }
    for (let i = 0; i < sum.length; i++) sum[i] += image.data[i];
  });
  // Both are set: the dataset has at least one sample.
  const ref = first!;
  const data = Float32Array.from(sum!, (v) => v / dataset.length);
  return { data, width: ref.width, height: ref.height, channels: ref.channels, layout: ref.layout };
}

/**
 * The mean of each channel over every pixel of every image (Caffe's ImageNet "mean pixel" is
 * [104, 117, 123] in BGR, 0..255). Images may differ in size. Use with `subtractMeanPixel`.
 */
export async function meanPixel(
  dataset: Dataset<Sample>,
  options: MeanOptions = {},
): Promise<number[]> {
  let sums: number[] = [];
  let count = 0;
  await forEachImage(dataset, options, (image) => {
    if (sums.length === 0) sums = new Array(image.channels).fill(0);
    if (image.channels !== sums.length)
      throw new RangeError(`meanPixel: images have ${sums.length} and ${image.channels} channels`);
    const s = stridesOf(image);
    const pixels = image.width * image.height;
    for (let c = 0; c < image.channels; c++) {
      let total = 0;
      for (let p = 0; p < pixels; p++) total += image.data[c * s.c + p * s.x];
      sums[c] += total;
    }
    count += pixels;
  });
  if (count === 0) throw new RangeError('meanPixel: the dataset is empty');
  return sums.map((v) => v / count);
}
