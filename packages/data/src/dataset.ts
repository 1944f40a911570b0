import type { Generator } from '@gpunet/tensor';
import { DataError } from './errors.js';
import type { EncodedImage, Image } from './image.js';
import { sampleGenerator } from './internal/seed.js';
import type { Transform } from './transform.js';

/** A sample ready to collate: one image (or several, after `tenCrop`) and its class index. */
export interface Sample {
  image: Image | Image[];
  label: number;
}

/** A sample as a reader returns it, before decoding and transforms. */
export interface RawSample {
  /** Encoded file bytes (decoded later, on a worker if there are any), or pixels. */
  image: EncodedImage | Image;
  label: number;
  /** The file, or `file#record`, for error messages and skip reports. */
  source: string;
}

/** Where a sample is drawn: the loader's seed and epoch, which fix its augmentation. */
export interface SampleContext {
  seed: number;
  epoch: number;
}

/** A map-style dataset (PyTorch `Dataset`): a length and an async indexed read. */
export interface Dataset<T = Sample> {
  readonly length: number;
  get(index: number, context?: SampleContext): Promise<T>;
}

/** Decodes an encoded image to HWC uint8 RGB pixels. */
export type ImageDecoder = (image: EncodedImage) => Promise<Image>;

/**
 * A dataset of images whose decoding and transform the `DataLoader` may move to worker threads:
 * `read` returns the raw sample on the main thread, `transform` is applied where the loader
 * chooses. `get` does both in-process.
 */
export interface ImageDataset extends Dataset<Sample> {
  /** Class names, index = label. */
  readonly classes: readonly string[];
  readonly transform: Transform | undefined;
  read(index: number): Promise<RawSample>;
}

/** Whether `dataset` exposes `read` and `transform`, so its work can go to worker threads. */
export function isImageDataset(dataset: Dataset<Sample>): dataset is ImageDataset {
  return typeof (dataset as Partial<ImageDataset>).read === 'function' && 'transform' in dataset;
}

/** Whether a raw sample's image still needs decoding. */
export function isEncoded(image: EncodedImage | Image): image is EncodedImage {
  return (image as EncodedImage).bytes !== undefined;
}

/** Decodes (if needed) and transforms a raw sample with the given generator. */
export async function processSample(
  raw: RawSample,
  transform: Transform | undefined,
  random: Generator,
  decode: ImageDecoder,
): Promise<Sample> {
  const image = isEncoded(raw.image) ? await decode(raw.image) : raw.image;
  if (!transform) return { image, label: raw.label };
  try {
    return { image: transform.apply(image, random), label: raw.label };
  } catch (error) {
    // Name the file: a transform's own message only knows shapes.
    const message = error instanceof Error ? error.message : String(error);
    throw new DataError(raw.source, message);
  }
}

/** Throws a RangeError naming the dataset unless 0 <= index < length. */
export function checkIndex(name: string, index: number, length: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= length) {
    throw new RangeError(`${name}: index ${index} is out of range for ${length} samples`);
  }
}

/** `get` for an image dataset: read, decode and transform in-process. */
export async function getTransformed(
  dataset: ImageDataset,
  index: number,
  context: SampleContext | undefined,
  decode: ImageDecoder,
): Promise<Sample> {
  const { seed, epoch } = context ?? { seed: 0, epoch: 0 };
  return processSample(
    await dataset.read(index),
    dataset.transform,
    sampleGenerator(seed, epoch, index),
    decode,
  );
}
