import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { SampleExecutor, WorkerSetup } from '../executor.js';
import { WorkerPool } from '../internal/worker-pool.js';

/**
 * How to start a worker: `worker.js` beside the built module (dist), or, when running from
 * source (vitest on src/), `worker.ts` required through tsx's CommonJS hook. (tsx's ESM hooks
 * do not reach worker threads on Node 20, so the source path goes through `require`.)
 */
function workerSource(): { script: URL | string; eval: boolean } {
  const built = new URL('./worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return { script: built, eval: false };
  const source = fileURLToPath(new URL('./worker.ts', import.meta.url));
  if (existsSync(source)) {
    const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
    return {
      script: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(source)});`,
      eval: true,
    };
  }
  throw new Error(
    `DataLoader: worker script not found at ${fileURLToPath(built)}; rebuild @gpunet/data`,
  );
}

/** `numWorkers` Node worker threads running `worker.ts`. */
export function createNodeWorkerPool(count: number, setup: WorkerSetup): SampleExecutor {
  const source = workerSource();
  return new WorkerPool(count, setup, (i, events) => {
    const worker = new Worker(source.script, { eval: source.eval });
    worker.on('message', events.onMessage);
    worker.on('error', events.onError);
    worker.on('exit', (code) =>
      events.onError(new Error(`DataLoader: worker ${i} exited with code ${code}`)),
    );
    return worker;
  });
}
