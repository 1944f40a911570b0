/** The Web Worker entry of the browser DataLoader (built as dist/browser-worker.js). */

import type { WorkerMessage, WorkerReply } from '../internal/protocol.js';
import { workerHandler } from '../internal/worker-handler.js';
import { decodeImage } from './decode.js';

// The worker global scope, declared here: the package compiles without lib.webworker.
interface WorkerScope {
  onmessage: ((event: { data: WorkerMessage }) => void) | null;
  postMessage(message: WorkerReply, transfer: ArrayBuffer[]): void;
}

const scope = globalThis as unknown as WorkerScope;
const handle = workerHandler(decodeImage, (reply, transfer) => scope.postMessage(reply, transfer));
scope.onmessage = (event) => {
  void handle(event.data);
};
