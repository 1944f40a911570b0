import type { Generator } from '@gpunet/tensor';
import type { Image } from './image.js';

/** Plain, structured-cloneable options of a transform, so a worker thread can rebuild it. */
export type TransformOptions = Record<string, unknown>;

/**
 * One step of a pipeline. `apply` takes the image and the sample's own generator (derived from
 * seed, epoch and sample index) and returns a new image, or several (`tenCrop`).
 * `name` and `options` let a worker thread rebuild the same transform (see `reviveTransform`).
 */
export interface Transform {
  readonly name: string;
  readonly options: TransformOptions;
  apply(image: Image, random: Generator): Image | Image[];
}

/** A transform as sent to a worker: its name and options. */
export interface TransformSpec {
  name: string;
  options: TransformOptions;
}
