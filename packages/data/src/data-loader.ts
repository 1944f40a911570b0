import { type Batch, type Collate, collate as defaultCollate } from './collate.js';
import {
  type Dataset,
  type ImageDataset,
  isImageDataset,
  processSample,
  type Sample,
} from './dataset.js';
import { DataError } from './errors.js';
import type { LoaderPlatform, SampleExecutor } from './executor.js';
import { epochGenerator, sampleGenerator } from './internal/seed.js';
import { isRevivable } from './transforms/registry.js';

/** `DataLoader` options; the defaults are PyTorch's where it has one. */
export interface DataLoaderOptions<B = Batch> {
  /** Samples per batch (default 1). */
  batchSize?: number;
  /** Reorder the samples every epoch, from `seed` and the epoch number (default false). */
  shuffle?: boolean;
  /** Seeds the shuffle and every sample's augmentation (default 0). */
  seed?: number;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** Worker threads for decoding and transforms; 0 runs them in-process (default 0). */
  numWorkers?: number;
  /** Batches to load ahead of the one being consumed (default 2). */
  prefetch?: number;
  /** `'throw'` (default) stops at the first bad sample; `'skip'` leaves it out and reports it. */
  onError?: 'throw' | 'skip';
  /** Called when an epoch's iteration ends, with the samples skipped in it. */
  onEpochEnd?: (report: EpochReport) => void;
  /** Turns samples into a batch (default `collate`). */
  collate?: Collate<B>;
}

/** A sample left out under `onError: 'skip'`. */
export interface SkippedSample {
  /** Dataset index. */
  index: number;
  /** The file (or `file#record`) that was bad. */
  source: string;
  message: string;
}

/** What `onEpochEnd` receives. */
export interface EpochReport {
  epoch: number;
  batches: number;
  samples: number;
  skipped: SkippedSample[];
}

/** One batch's samples, and those left out of it under `onError: 'skip'`. */
interface LoadedBatch {
  samples: Sample[];
  skipped: SkippedSample[];
}

const defaults = {
  batchSize: 1,
  shuffle: false,
  seed: 0,
  dropLast: false,
  numWorkers: 0,
  prefetch: 2,
  onError: 'throw',
} as const;

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new RangeError(`DataLoader: ${name} must be an integer >= ${min}, got ${value}`);
}

/**
 * Batches a dataset (PyTorch `DataLoader`): `for await (const { images, labels } of loader)`.
 * Each epoch's order comes from (seed, epoch) and each sample's augmentation from
 * (seed, epoch, index), so the batches are the same for any `numWorkers`. Image datasets
 * (`ImageFolder`, `Mnist`, `Cifar10`, `SyntheticImages`) decode and transform on the workers;
 * other datasets run `get` in-process. Call `close()` to stop the workers.
 *
 * Import it from the package root, which picks the Node or browser platform.
 */
export class BaseDataLoader<B = Batch> implements AsyncIterable<B> {
  readonly dataset: Dataset<Sample>;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  readonly numWorkers: number;
  readonly prefetch: number;
  readonly onError: 'throw' | 'skip';
  /** The epoch the next iteration runs; it counts up by one per iteration (see `setEpoch`). */
  epoch = 0;
  /** Samples skipped in the current (or last) epoch under `onError: 'skip'`. */
  skipped: SkippedSample[] = [];
  private readonly onEpochEnd: ((report: EpochReport) => void) | undefined;
  private readonly collateFn: Collate<B>;
  private readonly platform: LoaderPlatform;
  private executor: SampleExecutor | undefined;

  constructor(dataset: Dataset<Sample>, options: DataLoaderOptions<B>, platform: LoaderPlatform) {
    const o = { ...defaults, ...options };
    checkCount('batchSize', o.batchSize, 1);
    checkCount('numWorkers', o.numWorkers, 0);
    checkCount('prefetch', o.prefetch, 0);
    if (o.onError !== 'throw' && o.onError !== 'skip') {
      throw new RangeError(
        `DataLoader: onError must be 'throw' or 'skip', got '${String(o.onError)}'`,
      );
    }
    this.dataset = dataset;
    this.batchSize = o.batchSize;
    this.shuffle = o.shuffle;
    this.seed = o.seed;
    this.dropLast = o.dropLast;
    this.numWorkers = o.numWorkers;
    this.prefetch = o.prefetch;
    this.onError = o.onError;
    this.onEpochEnd = o.onEpochEnd;
    this.collateFn = (options.collate ?? defaultCollate) as Collate<B>;
    this.platform = platform;
    if (this.numWorkers > 0) {
      if (!platform.createWorkerPool) {
        throw new Error(
          `DataLoader: numWorkers=${this.numWorkers} is not supported on this platform; use numWorkers: 0`,
        );
      }
      if (isImageDataset(dataset) && dataset.transform && !isRevivable(dataset.transform)) {
        throw new Error(
          `DataLoader: transform '${dataset.transform.name}' cannot be rebuilt on a worker thread (only built-in transforms and compose of them can); use numWorkers: 0`,
        );
      }
    }
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** Sets the epoch the next iteration runs (PyTorch `DistributedSampler.set_epoch`). */
  setEpoch(epoch: number): void {
    checkCount('epoch', epoch, 0);
    this.epoch = epoch;
  }

  /** The dataset indices of an epoch, in the order they will be batched. */
  order(epoch: number): number[] {
    const indices = Array.from({ length: this.dataset.length }, (_, i) => i);
    if (!this.shuffle) return indices;
    const random = epochGenerator(this.seed, epoch);
    // Fisher-Yates from the back: each index swaps with a uniform earlier-or-equal one.
    for (let i = indices.length - 1; i > 0; i--) {
      const j = random.integer(i + 1);
      [indices[i], indices[j]] = [indices[j], indices[i]];
    }
    return indices;
  }

  /**
   * Runs the next epoch: yields its batches in order while up to `prefetch` more load, then
   * calls `onEpochEnd`. Breaking out early ends the epoch without the report.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const epoch = this.epoch++;
    const order = this.order(epoch);
    const batches: number[][] = [];
    for (let i = 0; i < order.length; i += this.batchSize)
      batches.push(order.slice(i, i + this.batchSize));
    if (this.dropLast && batches.length > 0 && batches[batches.length - 1].length < this.batchSize)
      batches.pop();
    const skipped: SkippedSample[] = [];
    this.skipped = skipped;
    const pending: Promise<LoadedBatch>[] = [];
    let next = 0;
    let yieldedBatches = 0;
    let yieldedSamples = 0;
    while (next < batches.length || pending.length > 0) {
      // While waiting for batch k, batches k..k+prefetch load; while k is consumed, k+1..k+prefetch.
      while (next < batches.length && pending.length <= this.prefetch) {
        const batch = this.loadBatch(batches[next++], epoch);
        // Awaited in order below; this only stops an early failure being reported as unhandled.
        batch.catch(() => {});
        pending.push(batch);
      }
      const loaded = await (pending.shift() as Promise<LoadedBatch>);
      // Recorded in batch order, whatever order the batches finished in.
      skipped.push(...loaded.skipped);
      if (loaded.samples.length === 0) continue;
      yieldedBatches++;
      yieldedSamples += loaded.samples.length;
      yield this.collateFn(loaded.samples);
    }
    this.onEpochEnd?.({ epoch, batches: yieldedBatches, samples: yieldedSamples, skipped });
  }

  /** Stops the worker threads (they are started again by the next iteration). */
  async close(): Promise<void> {
    const executor = this.executor;
    this.executor = undefined;
    await executor?.close();
  }

  private async loadBatch(indices: number[], epoch: number): Promise<LoadedBatch> {
    const results = await Promise.allSettled(indices.map((index) => this.loadSample(index, epoch)));
    const samples: Sample[] = [];
    const skipped: SkippedSample[] = [];
    results.forEach((result, k) => {
      if (result.status === 'fulfilled') {
        samples.push(result.value);
        return;
      }
      const error: unknown = result.reason;
      if (this.onError === 'throw') throw error;
      const message = error instanceof Error ? error.message : String(error);
      const source = error instanceof DataError ? error.source : `sample ${indices[k]}`;
      skipped.push({ index: indices[k], source, message });
    });
    return { samples, skipped };
  }

  private async loadSample(index: number, epoch: number): Promise<Sample> {
    const dataset = this.dataset;
    if (!isImageDataset(dataset)) return dataset.get(index, { seed: this.seed, epoch });
    const raw = await dataset.read(index);
    if (this.numWorkers === 0) {
      return processSample(
        raw,
        dataset.transform,
        sampleGenerator(this.seed, epoch, index),
        this.platform.decode,
      );
    }
    return this.workers(dataset).load(raw, epoch, index);
  }

  private workers(dataset: ImageDataset): SampleExecutor {
    if (!this.executor) {
      const transform = dataset.transform
        ? { name: dataset.transform.name, options: dataset.transform.options }
        : null;
      // Checked in the constructor: numWorkers > 0 only where createWorkerPool exists.
      this.executor = this.platform.createWorkerPool!(this.numWorkers, {
        transform,
        seed: this.seed,
      });
    }
    return this.executor;
  }
}
