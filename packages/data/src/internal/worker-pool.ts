import type { RawSample, Sample } from '../dataset.js';
import { DataError } from '../errors.js';
import type { SampleExecutor, WorkerSetup } from '../executor.js';
import type { WorkerMessage, WorkerReply } from './protocol.js';

/** A started worker, as the pool drives it: Node's worker_threads or a browser Web Worker. */
export interface WorkerHandle {
  postMessage(message: WorkerMessage): void;
  terminate(): Promise<unknown> | undefined;
  /** Keep the process alive while busy (Node; absent in browsers). */
  ref?(): void;
  /** Let the process exit while idle (Node; absent in browsers). */
  unref?(): void;
}

/** Callbacks a platform wires to a worker's message and error events. */
export interface WorkerEvents {
  onMessage(reply: WorkerReply): void;
  onError(error: Error): void;
}

interface Task {
  resolve: (sample: Sample) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: WorkerHandle;
  tasks: Map<number, Task>;
}

/**
 * A fixed set of workers; each sample goes to the worker with the fewest in flight. Platform
 * free: `spawn` starts one worker and wires its events. Workers are unref'd while idle (Node),
 * so an unclosed loader does not keep the process alive.
 */
export class WorkerPool implements SampleExecutor {
  private readonly slots: Slot[] = [];
  private nextId = 0;

  constructor(
    count: number,
    setup: WorkerSetup,
    spawn: (index: number, events: WorkerEvents) => WorkerHandle,
  ) {
    for (let i = 0; i < count; i++) {
      const tasks = new Map<number, Task>();
      const events: WorkerEvents = {
        onMessage: (reply) => this.settle(slot, reply),
        onError: (error) => this.failAll(slot, error),
      };
      const slot: Slot = { worker: spawn(i, events), tasks };
      slot.worker.postMessage({ kind: 'setup', setup });
      slot.worker.unref?.();
      this.slots.push(slot);
    }
  }

  load(raw: RawSample, epoch: number, index: number): Promise<Sample> {
    let slot = this.slots[0];
    for (const s of this.slots) if (s.tasks.size < slot.tasks.size) slot = s;
    const id = this.nextId++;
    return new Promise<Sample>((resolve, reject) => {
      if (slot.tasks.size === 0) slot.worker.ref?.();
      slot.tasks.set(id, { resolve, reject });
      slot.worker.postMessage({ kind: 'load', id, raw, epoch, index });
    });
  }

  async close(): Promise<void> {
    // An idle worker is unref'd, and terminate() resolves on its 'exit' event: ref it first, or a
    // process with nothing else to do can end before that event, leaving `await close()` (and a
    // top-level await above it) unsettled: Node exits with code 13. A CLI test did, once, in CI.
    for (const slot of this.slots) slot.worker.ref?.();
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
    this.slots.length = 0;
  }

  private settle(slot: Slot, reply: WorkerReply): void {
    const task = slot.tasks.get(reply.id);
    if (!task) return;
    slot.tasks.delete(reply.id);
    if (slot.tasks.size === 0) slot.worker.unref?.();
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
    slot.worker.unref?.();
  }
}
