/**
 * The worker-thread entry of the Node DataLoader: decodes and transforms raw samples with the
 * transform rebuilt from its spec, and each sample's generator derived from (seed, epoch, index).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processSample } from '../dataset.js';
import { DataError } from '../errors.js';
import type { WorkerSetup } from '../executor.js';
import { sampleGenerator } from '../internal/seed.js';
import { reviveTransform } from '../transforms/registry.js';
import { decodeImage } from './decode.js';
import { transferablesOf, type WorkerReply, type WorkerRequest } from './protocol.js';

const setup = workerData as WorkerSetup;
const transform = setup.transform ? reviveTransform(setup.transform) : undefined;
const port = parentPort;
if (!port) throw new Error('@gpunet/data worker: must run as a worker thread');

port.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const random = sampleGenerator(setup.seed, request.epoch, request.index);
    const sample = await processSample(request.raw, transform, random, decodeImage);
    reply = { id: request.id, sample };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reply = {
      id: request.id,
      error: { message, source: error instanceof DataError ? error.source : null },
    };
  }
  port.postMessage(reply, 'sample' in reply ? transferablesOf(reply.sample) : []);
});
