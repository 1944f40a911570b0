import {
  checkIndex,
  getTransformed,
  type ImageDataset,
  type ImageDecoder,
  type RawSample,
  type Sample,
  type SampleContext,
} from './dataset.js';
import { DataError } from './errors.js';
import type { IdxArray } from './idx.js';
import type { Transform } from './transform.js';

/** `IdxDataset` options. */
export interface IdxDatasetOptions {
  /** Class names (default the ten digits); labels must be below their count. */
  classes?: readonly string[];
  transform?: Transform;
}

const noDecode: ImageDecoder = (image) =>
  Promise.reject(new DataError(image.source, 'IDX samples are never encoded'));

/**
 * Images and labels from a pair of parsed IDX arrays (MNIST and Fashion-MNIST): images
 * `[N, H, W]` uint8 become 1-channel HWC images, labels `[N]` uint8. A label outside the classes
 * is a per-sample DataError naming the labels file and record (skippable by the loader).
 */
export class IdxDataset implements ImageDataset {
  readonly classes: readonly string[];
  readonly transform: Transform | undefined;
  /** The images file and the labels file, as named in errors. */
  readonly sources: { images: string; labels: string };
  private readonly images: Uint8Array;
  private readonly labels: Uint8Array;
  readonly height: number;
  readonly width: number;

  constructor(
    images: IdxArray,
    labels: IdxArray,
    sources: { images: string; labels: string },
    options: IdxDatasetOptions = {},
  ) {
    this.sources = sources;
    if (images.dtype !== 'uint8' || images.shape.length !== 3) {
      throw new DataError(
        sources.images,
        `expected uint8 images [N, H, W], got ${images.dtype} [${images.shape.join(', ')}]`,
      );
    }
    if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
      throw new DataError(
        sources.labels,
        `expected uint8 labels [N], got ${labels.dtype} [${labels.shape.join(', ')}]`,
      );
    }
    if (images.shape[0] !== labels.shape[0]) {
      throw new DataError(
        sources.labels,
        `has ${labels.shape[0]} labels but ${sources.images} has ${images.shape[0]} images`,
      );
    }
    this.images = images.data as Uint8Array;
    this.labels = labels.data as Uint8Array;
    this.height = images.shape[1];
    this.width = images.shape[2];
    this.classes = options.classes ?? ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
    this.transform = options.transform;
  }

  /** Number of samples. */
  get length(): number {
    return this.labels.length;
  }

  /** The image's pixels (a copy, so a worker receives only this image) and its label. */
  async read(index: number): Promise<RawSample> {
    checkIndex('IdxDataset', index, this.length);
    const label = this.labels[index];
    const source = `${this.sources.labels}#${index}`;
    if (label >= this.classes.length) {
      throw new DataError(
        source,
        `label ${label} is out of range for ${this.classes.length} classes (0..${this.classes.length - 1})`,
      );
    }
    const size = this.height * this.width;
    const data = this.images.slice(index * size, (index + 1) * size);
    return {
      image: { data, width: this.width, height: this.height, channels: 1, layout: 'hwc' },
      label,
      source,
    };
  }

  /** The transformed sample; its augmentation is fixed by `context` (seed, epoch). */
  get(index: number, context?: SampleContext): Promise<Sample> {
    return getTransformed(this, index, context, noDecode);
  }
}
