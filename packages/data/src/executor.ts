import type { ImageDecoder, RawSample, Sample } from './dataset.js';
import type { TransformSpec } from './transform.js';

/** Runs decode + transform for raw samples somewhere: in-process or on worker threads. */
export interface SampleExecutor {
  load(raw: RawSample, epoch: number, index: number): Promise<Sample>;
  /** Stops any threads; the executor is not used again. */
  close(): Promise<void>;
}

/** What a worker needs once, at start: the transform to rebuild and the loader's seed. */
export interface WorkerSetup {
  transform: TransformSpec | null;
  seed: number;
}

/** The platform half of a DataLoader: the decoder and, where threads exist, a worker pool. */
export interface LoaderPlatform {
  decode: ImageDecoder;
  /** Absent where worker threads are not supported (the browser build, for now). */
  createWorkerPool?: (count: number, setup: WorkerSetup) => SampleExecutor;
}
