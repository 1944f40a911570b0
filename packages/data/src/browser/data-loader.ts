import type { Batch } from '../collate.js';
import { BaseDataLoader, type DataLoaderOptions } from '../data-loader.js';
import type { Dataset, Sample } from '../dataset.js';
import { decodeImage } from './decode.js';

/**
 * The browser `DataLoader`: decodes with `createImageBitmap`; decoding and transforms run
 * in-process (`numWorkers` must be 0 in this build for now).
 */
export class DataLoader<B = Batch> extends BaseDataLoader<B> {
  constructor(dataset: Dataset<Sample>, options: DataLoaderOptions<B> = {}) {
    super(dataset, options, { decode: decodeImage });
  }
}
