/** The platform-independent surface, re-exported by both the Node and the browser entries. */
export {
  CIFAR10_CLASSES,
  CIFAR10_RECORD_BYTES,
  Cifar10Dataset,
  type Cifar10Options,
  type CifarBatchFile,
} from './cifar10.js';
export { type Batch, type Collate, collate } from './collate.js';
export {
  BaseDataLoader,
  type DataLoaderOptions,
  type EpochReport,
  type SkippedSample,
} from './data-loader.js';
export {
  type Dataset,
  type ImageDataset,
  type ImageDecoder,
  isImageDataset,
  processSample,
  type RawSample,
  type Sample,
  type SampleContext,
} from './dataset.js';
export { DataError } from './errors.js';
export type { LoaderPlatform, SampleExecutor, WorkerSetup } from './executor.js';
export { IDX_TYPES, type IdxArray, isGzip, parseIdx, readIdx } from './idx.js';
export { IdxDataset, type IdxDatasetOptions } from './idx-dataset.js';
export {
  createImage,
  describeImage,
  type EncodedImage,
  type Image,
  type ImageLayout,
} from './image.js';
export { epochGenerator, mixSeed, sampleGenerator } from './internal/seed.js';
export { type MeanOptions, meanImage, meanPixel } from './mean.js';
export { SYNTHETIC_CLASSES, SyntheticImages, type SyntheticImagesOptions } from './synthetic.js';
export type { Transform, TransformOptions, TransformSpec } from './transform.js';
export * from './transforms/index.js';
