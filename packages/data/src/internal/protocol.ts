import type { RawSample, Sample } from '../dataset.js';
import type { WorkerSetup } from '../executor.js';

/** Main thread -> worker: the setup, once, first; then samples to decode and transform. */
export type WorkerMessage =
  | { kind: 'setup'; setup: WorkerSetup }
  | ({ kind: 'load' } & WorkerRequest);

/** One sample to decode and transform. */
export interface WorkerRequest {
  id: number;
  raw: RawSample;
  epoch: number;
  index: number;
}

/** Worker -> main thread: the sample, or the error with the file it names. */
export type WorkerReply =
  | { id: number; sample: Sample }
  | { id: number; error: { message: string; source: string | null } };

/** The buffers a sample owns whole, to move rather than copy (views into larger buffers are copied). */
export function transferablesOf(sample: Sample): ArrayBuffer[] {
  const images = Array.isArray(sample.image) ? sample.image : [sample.image];
  const seen = new Set<ArrayBuffer>();
  for (const { data } of images) {
    const buffer = data.buffer;
    if (
      buffer instanceof ArrayBuffer &&
      data.byteOffset === 0 &&
      data.byteLength === buffer.byteLength
    ) {
      seen.add(buffer);
    }
  }
  return [...seen];
}
