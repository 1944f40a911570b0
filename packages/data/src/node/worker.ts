/** The worker-thread entry of the Node DataLoader (built as dist/worker.js). */
import { parentPort } from 'node:worker_threads';
import { workerHandler } from '../internal/worker-handler.js';
import { decodeImage } from './decode.js';

const port = parentPort;
if (!port) throw new Error('@gpunet/data worker: must run as a worker thread');
port.on(
  'message',
  workerHandler(decodeImage, (reply, transfer) => port.postMessage(reply, transfer)),
);
