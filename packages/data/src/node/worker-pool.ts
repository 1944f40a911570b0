import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { RawSample, Sample } from '../dataset.js';
import { DataError } from '../errors.js';
import type { SampleExecutor, WorkerSetup } from '../executor.js';
import type { WorkerReply, WorkerRequest } from './protocol.js';

interface Task {
  resolve: (sample: Sample) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
}

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

/**
 * A fixed set of worker threads; each sample goes to the thread with the fewest in flight.
 * Threads are unref'd while idle, so an unclosed loader does not keep Node alive.
 */
export class WorkerPool implements SampleExecutor {
  private readonly slots: Slot[] = [];
  private nextId = 0;

  constructor(count: number, setup: WorkerSetup) {
    const source = workerSource();
    for (let i = 0; i < count; i++) {
      const worker = new Worker(source.script, { workerData: setup, eval: source.eval });
      const slot: Slot = { worker, tasks: new Map() };
      worker.on('message', (reply: WorkerReply) => this.settle(slot, reply));
      worker.on('error', (error) => this.failAll(slot, error));
      worker.on('exit', (code) => {
        if (slot.tasks.size > 0)
          this.failAll(slot, new Error(`DataLoader: worker ${i} exited with code ${code}`));
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  load(raw: RawSample, epoch: number, index: number): Promise<Sample> {
    let slot = this.slots[0];
    for (const s of this.slots) if (s.tasks.size < slot.tasks.size) slot = s;
    const id = this.nextId++;
    const request: WorkerRequest = { id, raw, epoch, index };
    return new Promise<Sample>((resolve, reject) => {
      if (slot.tasks.size === 0) slot.worker.ref();
      slot.tasks.set(id, { resolve, reject });
      slot.worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const task = slot.tasks.get(reply.id);
    if (!task) return;
    slot.tasks.delete(reply.id);
    if (slot.tasks.size === 0) slot.worker.unref();
    if ('sample' in reply) task.resolve(reply.sample);
    else if (reply.error.source !== null) {
      // Rebuild the DataError so skip reports name the file; its message already starts with it.
      const error = new DataError(reply.error.source, '');
      error.message = reply.error.message;
      task.reject(error);
    } else task.reject(new Error(reply.error.message));
  }

  private failAll(slot: Slot, error: Error): void {
    for (const task of slot.tasks.values()) task.reject(error);
    slot.tasks.clear();
    slot.worker.unref();
  }
}
