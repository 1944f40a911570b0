import type { Image } from '../image.js';
import type { Transform, TransformSpec } from '../transform.js';
import { centerCrop } from './center-crop.js';
import { compose } from './compose.js';
import type { CropSize } from './crop.js';
import { type NormalizeOptions, normalize } from './normalize.js';
import { type PcaLightingOptions, pcaLighting } from './pca-lighting.js';
import { randomCrop } from './random-crop.js';
import { randomHorizontalFlip } from './random-horizontal-flip.js';
import { resize } from './resize.js';
import { subtractMeanImage, subtractMeanPixel } from './subtract-mean.js';
import { tenCrop } from './ten-crop.js';
import { toTensor } from './to-tensor.js';

// Options arrive by structured clone from the transform that made them, so the casts hold.
const factories: Record<string, (options: Record<string, unknown>) => Transform> = {
  compose: (o) => compose((o.transforms as TransformSpec[]).map(reviveTransform)),
  resize: (o) => resize(o.size as number | [number, number]),
  centerCrop: (o) => centerCrop(o.size as CropSize),
  randomCrop: (o) => randomCrop(o.size as CropSize),
  randomHorizontalFlip: (o) => randomHorizontalFlip(o.p as number),
  tenCrop: (o) => tenCrop(o.size as CropSize),
  toTensor: () => toTensor(),
  normalize: (o) => normalize(o as unknown as NormalizeOptions),
  pcaLighting: (o) => pcaLighting(o as PcaLightingOptions),
  subtractMeanPixel: (o) => subtractMeanPixel(o.mean as number[]),
  subtractMeanImage: (o) => subtractMeanImage(o.meanImage as Image),
};

/** Whether a worker thread can rebuild `transform` (it is built-in, or a compose of built-ins). */
export function isRevivable(spec: TransformSpec): boolean {
  if (!(spec.name in factories)) return false;
  if (spec.name === 'compose')
    return (spec.options.transforms as TransformSpec[]).every(isRevivable);
  return true;
}

/** Rebuilds a built-in transform from its name and options (on a worker thread). */
export function reviveTransform(spec: TransformSpec): Transform {
  const factory = factories[spec.name];
  if (!factory) throw new Error(`reviveTransform: unknown transform '${spec.name}'`);
  return factory(spec.options);
}
