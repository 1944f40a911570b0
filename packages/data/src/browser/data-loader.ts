import type { Batch } from '../collate.js';
import { BaseDataLoader, type DataLoaderOptions } from '../data-loader.js';
import type { Dataset, Sample } from '../dataset.js';
import { decodeImage } from './decode.js';
import { createBrowserWorkerPool } from './worker-pool.js';

/**
 * The browser `DataLoader`: decodes with `createImageBitmap`, and runs decoding and transforms
 * on `numWorkers` module Web Workers (0 = on the calling thread). See `BaseDataLoader` for the
 * iteration and seeding rules.
 */
export class DataLoader<B = Batch> extends BaseDataLoader<B> {
  constructor(dataset: Dataset<Sample>, options: DataLoaderOptions<B> = {}) {
    super(dataset, options, { decode: decodeImage, createWorkerPool: createBrowserWorkerPool });
  }
}
