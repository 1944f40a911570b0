/**
 * The launch queue of an asynchronous mode (webgpu): uploads, launches and frees run in program
 * order, so a kernel never binds a buffer that a later `dispose` freed, and ops chain without
 * waiting for the GPU.
 */
export class LaunchQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after everything queued before it; its failure does not stop the queue. */
  enqueue<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
