/**
 * A pool of worker threads that share the Wasm heap and run kernel calls on their own slices of
 * the work (GEMM columns, or images). The calling thread takes slice 0 and then waits until every
 * worker is done, so a kernel stays synchronous, as the backend contract requires.
 *
 * Node: worker_threads; the caller blocks in Atomics.wait. Browsers: Web Workers (from a Blob
 * URL) when the page is crossOriginIsolated, so that a shared WebAssembly.Memory exists; a page's
 * main thread may not block, so it spins on Atomics.load for the (millisecond) kernels. Elsewhere
 * the backend runs on one thread and says so once.
 */
import { envVar } from './env.js';
import type { KernelExports } from './heap.js';

/** Kernel functions a worker can be asked to run, by index in this list. */
const FUNCTIONS = [
  'sgemm',
  'convForward',
  'convBackpropInput',
  'convBackpropFilter',
  'maxPool',
  'maxPoolSeparable',
  'lrn',
  'lrnImages',
  'lrnGradImages',
  'maxPoolGrad',
  'winogradWeights',
  'winogradInput',
  'winogradOutput',
  'weightedSum',
  'winogradGradOutput',
  'winogradFilterGemm',
  'winogradFilterOutput',
  'winograd5Weights',
  'winograd5Input',
  'winograd5Output',
  'winograd5GradOutput',
  'winograd5FilterOutput',
  'winograd43Weights',
  'winograd43Input',
  'winograd43Output',
  'winograd43GradOutput',
  'winograd43FilterOutput',
  'maxPoolStride2',
  'maxPoolGradStride2',
  'lrnTiles',
  'lrnGradTiles',
  'binary',
  'rectify',
  'sumMiddle',
  'winogradPackWeights',
  'winogradGemmPacked',
  'biasActivation',
  'reluGrad',
] as const;
/** A kernel function the pool can run. */
export type PoolFunction = (typeof FUNCTIONS)[number];

const GENERATION = 0;
const PENDING = 1;
const READY = 2;
const FAILED = 3;
const SLOTS = 8;
const SLOT_INTS = 32;

/**
 * How many times a waiting thread reads the control word before it sleeps in `Atomics.wait`
 * (tens of microseconds), as OpenMP's runtimes spin before they block: a training step's kernels
 * follow each other closely, and a worker still spinning starts the next one without the
 * futex wake-up, which on these virtual machines cost a third of the calling thread's time in a
 * mini AlexNet step. Measured, 5 rounds each, nothing else running: the mini step 1602-1709
 * images/s against 1219-1450 without. `GPUNET_WASM_SPIN` sets it (0: sleep at once; a machine
 * shared with other busy work may prefer that).
 */
const SPIN = Number(envVar('GPUNET_WASM_SPIN') ?? 20_000);

// Runs inside each worker: instantiate the kernels on the shared memory, then wait for a new
// generation, run this worker's slot, and count down. `run` starts it with the worker's data.
const WORKER_LOOP = `
function run({ module, memory, control, argBuffer, index }) {
  const FUNCTIONS = ${JSON.stringify(FUNCTIONS)};
  const instance = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('abort'); } } });
  const ctl = new Int32Array(control);
  const argv = new Float64Array(argBuffer);
  Atomics.add(ctl, ${READY}, 1);
  Atomics.notify(ctl, ${READY});
  let seen = 0;
  for (;;) {
    for (let spin = ${SPIN}; spin > 0 && Atomics.load(ctl, ${GENERATION}) === seen; spin--);
    Atomics.wait(ctl, ${GENERATION}, seen);
    seen = Atomics.load(ctl, ${GENERATION});
    const base = ${SLOTS} + index * ${SLOT_INTS};
    const fn = ctl[base];
    if (fn >= 0) {
      const args = [];
      for (let i = 0; i < ctl[base + 1]; i++) args.push(argv[index * ${SLOT_INTS} + i]);
      try { instance.exports[FUNCTIONS[fn]](...args); } catch (error) { Atomics.store(ctl, ${FAILED}, 1); }
    }
    Atomics.sub(ctl, ${PENDING}, 1);
    Atomics.notify(ctl, ${PENDING});
  }
}
`;

/** Node: a worker_threads Worker in eval mode (CommonJS), its data in `workerData`. */
const NODE_WORKER_SOURCE = `${WORKER_LOOP}
run(require('node:worker_threads').workerData);
`;

/** Browsers: a Web Worker from a Blob URL; its data comes in the first message. */
const WEB_WORKER_SOURCE = `${WORKER_LOOP}
self.onmessage = (event) => run(event.data);
`;

/** What the pool needs of a Node or Web Worker. */
interface PoolWorker {
  terminate(): unknown;
}

type WorkerData = {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: ArrayBufferLike;
  argBuffer: ArrayBufferLike;
  index: number;
};

type NodeWorkerConstructor = new (
  source: string,
  options: { eval: true; workerData: unknown },
) => PoolWorker & { unref(): void };

function nodeWorkerConstructor(): NodeWorkerConstructor | null {
  const processLike = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process;
  const threads = processLike?.getBuiltinModule?.('node:worker_threads') as
    | { Worker?: NodeWorkerConstructor }
    | undefined;
  return threads?.Worker ?? null;
}

interface WebWorkerLike extends PoolWorker {
  postMessage(data: unknown): void;
}

/** A function that starts one worker on `data`, for this platform, or the reason there is none. */
function workerStarter(): ((data: WorkerData) => PoolWorker) | string {
  const NodeWorker = nodeWorkerConstructor();
  if (NodeWorker) {
    return (data) => {
      const worker = new NodeWorker(NODE_WORKER_SOURCE, { eval: true, workerData: data });
      worker.unref();
      return worker;
    };
  }
  const web = globalThis as {
    Worker?: new (url: string) => WebWorkerLike;
    Blob?: typeof Blob;
    URL?: typeof URL;
    crossOriginIsolated?: boolean;
  };
  if (!web.Worker || !web.Blob || !web.URL) return 'this platform has no worker threads';
  if (web.crossOriginIsolated === false)
    return 'the page is not crossOriginIsolated (serve it with COOP/COEP headers)';
  const url = web.URL.createObjectURL(
    new web.Blob([WEB_WORKER_SOURCE], { type: 'text/javascript' }),
  );
  const WebWorker = web.Worker;
  return (data) => {
    const worker = new WebWorker(url);
    worker.postMessage(data);
    return worker;
  };
}

/**
 * Whether this thread may block in `Atomics.wait` (not a browser's main thread). Where it may
 * not, the calling thread spins on `Atomics.load` while the workers finish their slices.
 */
function mayBlock(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The calling thread plus `workers.length` worker threads, all on one heap. */
export class ThreadPool {
  private readonly control: Int32Array;
  /** Arguments, one row of SLOT_INTS per worker: float64 holds pointers, sizes and float attributes exactly. */
  private readonly argv: Float64Array;

  private constructor(
    private readonly kernels: KernelExports,
    private readonly workers: PoolWorker[],
    control: ArrayBufferLike,
    argBuffer: ArrayBufferLike,
  ) {
    this.control = new Int32Array(control);
    this.argv = new Float64Array(argBuffer);
  }

  /** Threads that share the work, the calling one included. */
  get size(): number {
    return this.workers.length + 1;
  }

  /** Whether the calling thread waits with Atomics.wait (else it spins). */
  private readonly blocking = mayBlock();
  /** Kernel calls that were split over the workers (for tests and diagnostics). */
  parallelRuns = 0;

  /** Whether every worker has instantiated the kernels (checked until true, then remembered). */
  private allReady = false;

  /** True once the workers are up; until then `run` does all the slices on the calling thread. */
  get workersReady(): boolean {
    if (!this.allReady) this.allReady = Atomics.load(this.control, READY) >= this.workers.length;
    return this.allReady;
  }

  /**
   * Starts `threads - 1` workers on the heap's shared memory and returns at once: kernels run on
   * the calling thread alone until the workers report ready (a few milliseconds), with the same
   * slices, so the results do not depend on when they joined. A one-thread pool (and the reason)
   * where workers cannot run.
   */
  static start(
    kernels: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    shared: boolean,
    threads: number,
  ): { pool: ThreadPool; reason?: string } {
    // Plain buffers where SharedArrayBuffer does not exist (a page that is not crossOriginIsolated):
    // a one-thread pool never shares them.
    const Buffer =
      shared && typeof SharedArrayBuffer !== 'undefined' ? SharedArrayBuffer : ArrayBuffer;
    const control = new Buffer((SLOTS + SLOT_INTS * Math.max(threads, 1)) * 4);
    const argBuffer = new Buffer(SLOT_INTS * Math.max(threads, 1) * 8);
    const single = (reason?: string) => ({
      pool: new ThreadPool(kernels, [], control, argBuffer),
      reason,
    });
    if (threads <= 1) return single();
    if (!shared)
      return single('SharedArrayBuffer is unavailable (a page must be crossOriginIsolated)');
    const start = workerStarter();
    if (typeof start === 'string') return single(start);
    const workers = Array.from({ length: threads - 1 }, (_, index) =>
      start({ module, memory, control, argBuffer, index }),
    );
    return { pool: new ThreadPool(kernels, workers, control, argBuffer) };
  }

  /** Resolves when the workers are up (or after `timeoutMs`, returning false). */
  async whenReady(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.workersReady) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    return true;
  }

  /**
   * Starts `threads - 1` workers on the heap's shared memory and waits for them. Returns a
   * one-thread pool (and the reason) where workers cannot run.
   */
  static async create(
    kernels: KernelExports,
    module: WebAssembly.Module,
    memory: WebAssembly.Memory,
    shared: boolean,
    threads: number,
  ): Promise<{ pool: ThreadPool; reason?: string }> {
    const started = ThreadPool.start(kernels, module, memory, shared, threads);
    if (await started.pool.whenReady()) return started;
    await started.pool.dispose();
    return {
      pool: ThreadPool.start(kernels, module, memory, shared, 1).pool,
      reason: 'worker threads did not start within 10 s',
    };
  }

  /**
   * Runs `fn` once per argument list: list 0 on this thread, the others on workers, and returns
   * when all are done. At most `size` lists.
   */
  run(fn: PoolFunction, argLists: readonly (readonly number[])[]): void {
    if (argLists.length === 0) return;
    if (this.workers.length > 0 && argLists.length > 1 && !this.workersReady) {
      // Workers still starting: the same slices, one after another, here.
      for (const args of argLists) (this.kernels[fn] as (...a: number[]) => void)(...args);
      return;
    }
    const ctl = this.control;
    const index = FUNCTIONS.indexOf(fn);
    for (let w = 0; w < this.workers.length; w++) {
      const args = argLists[w + 1];
      const base = SLOTS + w * SLOT_INTS;
      ctl[base] = args ? index : -1;
      if (args) {
        ctl[base + 1] = args.length;
        args.forEach((value, i) => {
          this.argv[w * SLOT_INTS + i] = value;
        });
      }
    }
    if (this.workers.length > 0 && argLists.length > 1) {
      this.parallelRuns++;
      Atomics.store(ctl, PENDING, this.workers.length);
      Atomics.add(ctl, GENERATION, 1);
      Atomics.notify(ctl, GENERATION);
    }
    (this.kernels[fn] as (...args: number[]) => void)(...argLists[0]);
    if (this.workers.length > 0 && argLists.length > 1) {
      for (let spin = SPIN; spin > 0 && Atomics.load(ctl, PENDING) > 0; spin--);
      for (
        let pending = Atomics.load(ctl, PENDING);
        pending > 0;
        pending = Atomics.load(ctl, PENDING)
      ) {
        if (this.blocking) Atomics.wait(ctl, PENDING, pending);
      }
      if (Atomics.exchange(ctl, FAILED, 0) !== 0)
        throw new Error(`wasm backend: ${fn} failed on a worker thread`);
    }
  }

  /** Stops the workers. */
  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
