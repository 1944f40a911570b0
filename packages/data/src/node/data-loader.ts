import type { Batch } from '../collate.js';
import { BaseDataLoader, type DataLoaderOptions } from '../data-loader.js';
import type { Dataset, Sample } from '../dataset.js';
import { decodeImage } from './decode.js';
import { createNodeWorkerPool } from './worker-pool.js';

/**
 * The Node `DataLoader`: decodes with sharp and runs decoding and transforms on `numWorkers`
 * worker threads (0 = in-process). See `BaseDataLoader` for the iteration and seeding rules.
 *
 * ```ts
 * const loader = new DataLoader(dataset, { batchSize: 128, shuffle: true, seed: 1, numWorkers: 2 });
 * for await (const { images, labels } of loader) { ... }
 * await loader.close();
 * ```
 */
export class DataLoader<B = Batch> extends BaseDataLoader<B> {
  constructor(dataset: Dataset<Sample>, options: DataLoaderOptions<B> = {}) {
    super(dataset, options, {
      decode: decodeImage,
      createWorkerPool: createNodeWorkerPool,
    });
  }
}
