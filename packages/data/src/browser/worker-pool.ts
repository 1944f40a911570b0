import type { SampleExecutor, WorkerSetup } from '../executor.js';
import type { WorkerMessage, WorkerReply } from '../internal/protocol.js';
import { WorkerPool } from '../internal/worker-pool.js';

// The Web Worker API, declared here: the package compiles without lib.dom.
interface WebWorker {
  onmessage: ((event: { data: WorkerReply }) => void) | null;
  onerror: ((event: { message?: string }) => void) | null;
  postMessage(message: WorkerMessage): void;
  terminate(): void;
}
type WebWorkerConstructor = new (url: URL, options: { type: 'module'; name?: string }) => WebWorker;

/**
 * `numWorkers` module Web Workers running `browser-worker.js`, found beside this module with
 * `new URL(..., import.meta.url)` (the pattern Vite, webpack 5 and esbuild-based tools follow).
 */
export function createBrowserWorkerPool(count: number, setup: WorkerSetup): SampleExecutor {
  const WorkerClass = (globalThis as unknown as { Worker?: WebWorkerConstructor }).Worker;
  if (!WorkerClass)
    throw new Error('DataLoader: Web Workers are not available here; use numWorkers: 0');
  return new WorkerPool(count, setup, (i, events) => {
    const worker = new WorkerClass(new URL('./browser-worker.js', import.meta.url), {
      type: 'module',
      name: `@gpunet/data worker ${i}`,
    });
    worker.onmessage = (event) => events.onMessage(event.data);
    worker.onerror = (event) =>
      events.onError(
        new Error(`DataLoader: worker ${i} failed: ${event.message ?? 'unknown error'}`),
      );
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => {
        worker.terminate();
        return undefined;
      },
    };
  });
}
