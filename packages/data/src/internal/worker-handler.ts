import { type ImageDecoder, processSample } from '../dataset.js';
import { DataError } from '../errors.js';
import type { Transform } from '../transform.js';
import { reviveTransform } from '../transforms/registry.js';
import type { WorkerMessage, WorkerReply } from './protocol.js';
import { transferablesOf } from './protocol.js';
import { sampleGenerator } from './seed.js';

/**
 * The body of a worker, for any platform: rebuilds the transform from the setup message, then
 * decodes and transforms each sample with the generator of (seed, epoch, index) and replies
 * with the sample (its buffers moved) or the error.
 */
export function workerHandler(
  decode: ImageDecoder,
  reply: (message: WorkerReply, transfer: ArrayBuffer[]) => void,
): (message: WorkerMessage) => Promise<void> {
  let seed = 0;
  let transform: Transform | undefined;
  return async (message) => {
    if (message.kind === 'setup') {
      seed = message.setup.seed;
      transform = message.setup.transform ? reviveTransform(message.setup.transform) : undefined;
      return;
    }
    try {
      const random = sampleGenerator(seed, message.epoch, message.index);
      const sample = await processSample(message.raw, transform, random, decode);
      reply({ id: message.id, sample }, transferablesOf(sample));
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      const source = error instanceof DataError ? error.source : null;
      reply({ id: message.id, error: { message: text, source } }, []);
    }
  };
}
