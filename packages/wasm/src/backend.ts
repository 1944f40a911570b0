import type { DataId, DType, HostBackend, Shape, TensorInfo, TypedArray } from '@gpunet/tensor';
import { sizeOf } from '@gpunet/tensor';
import { canShareMemory, WasmHeap } from './heap.js';
import { ThreadPool } from './threads.js';

/** Options of the wasm backend. */
export interface WasmBackendOptions {
  /**
   * Threads that share a kernel's work, the calling one included. Default: the
   * `GPUNET_WASM_THREADS` environment variable, else the number of cores.
   */
  threads?: number;
}

interface Block {
  offset: number;
  bytes: number;
  length: number;
  dtype: DType;
}

/** The one-thread fallback is reported once per page or process. */
let warnedSingleThread = false;

function defaultThreads(): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  const fromEnv = Number(env?.GPUNET_WASM_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const navigatorCores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator
    ?.hardwareConcurrency;
  if (navigatorCores) return navigatorCores;
  // Node 20 has no navigator global.
  const processLike = (globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } })
    .process;
  const os = processLike?.getBuiltinModule?.('node:os') as
    | { availableParallelism?: () => number }
    | undefined;
  return os?.availableParallelism?.() ?? 1;
}

/**
 * The wasm backend: tensors live in one WebAssembly memory; GEMM and convolutions run as SIMD
 * Wasm over a pool of threads; every other kernel is the reference backend's loop, run on views
 * of the same memory.
 */
export class WasmBackend implements HostBackend {
  readonly name = 'wasm';
  private readonly blocks = new Map<DataId, Block>();
  private readonly derived = new Map<DataId, Map<string, { offset: number; bytes: number }>>();
  /** One GEMM packing scratch per thread. */
  readonly scratch: number[];

  private constructor(
    readonly heap: WasmHeap,
    readonly pool: ThreadPool,
    /** Why fewer threads than asked for run, if so. */
    readonly threadNote: string | undefined,
  ) {
    const bytes = heap.kernels.gemmScratchBytes();
    this.scratch = Array.from({ length: pool.size }, () => heap.alloc(bytes));
  }

  /**
   * Makes the heap and compiles the kernels synchronously, and starts the threads, which join
   * the work once they are up. This is what lets importing the package make `wasm` the default
   * backend (the engine's default must be made synchronously). Throws where the engine refuses
   * to compile synchronously; `create` works everywhere.
   */
  static createSync(options: WasmBackendOptions = {}): WasmBackend {
    const threads = options.threads ?? defaultThreads();
    const shared = threads > 1 && canShareMemory();
    const heap = WasmHeap.createSync(shared);
    const { pool, reason } = ThreadPool.start(
      heap.kernels,
      heap.module,
      heap.memory,
      shared,
      threads,
    );
    if (reason && !warnedSingleThread) {
      warnedSingleThread = true;
      console.warn(`@gpunet/wasm: running on one thread: ${reason}`);
    }
    return new WasmBackend(heap, pool, reason);
  }

  /** Makes the heap, compiles the kernels and starts the threads, waiting for them. */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    const threads = options.threads ?? defaultThreads();
    const shared = threads > 1 && canShareMemory();
    const heap = await WasmHeap.create(shared);
    const { pool, reason } = await ThreadPool.create(
      heap.kernels,
      heap.module,
      heap.memory,
      shared,
      threads,
    );
    if (reason && !warnedSingleThread) {
      warnedSingleThread = true;
      console.warn(`@gpunet/wasm: running on one thread: ${reason}`);
    }
    return new WasmBackend(heap, pool, reason);
  }

  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    const info = this.allocate(shape, dtype);
    this.view(info.dataId).set(values);
    return info.dataId;
  }

  async read(dataId: DataId): Promise<TypedArray> {
    return this.readSync(dataId);
  }

  readSync(dataId: DataId): TypedArray {
    return this.view(dataId).slice();
  }

  disposeData(dataId: DataId): void {
    const block = this.blocks.get(dataId);
    if (!block) return;
    this.blocks.delete(dataId);
    this.heap.release(block.offset, block.bytes);
    const derived = this.derived.get(dataId);
    if (derived) {
      for (const d of derived.values()) this.heap.release(d.offset, d.bytes);
      this.derived.delete(dataId);
    }
  }

  /**
   * A block computed from a tensor's data (a convolution's Winograd-transformed kernels), made
   * by `fill` the first time `key` is asked for and freed with the tensor. Valid because a
   * tensor's buffer never changes once written (kernels write only their new outputs).
   */
  derivedBlock(dataId: DataId, key: string, bytes: number, fill: (offset: number) => void): number {
    let byKey = this.derived.get(dataId);
    const found = byKey?.get(key);
    if (found) return found.offset;
    const offset = this.heap.alloc(bytes);
    fill(offset);
    if (!byKey) {
      byKey = new Map();
      this.derived.set(dataId, byKey);
    }
    byKey.set(key, { offset, bytes });
    return offset;
  }

  /** Bytes in live tensor blocks (packing scratch excluded). */
  numBytes(): number {
    let total = 0;
    for (const block of this.blocks.values()) total += block.bytes;
    return total;
  }

  /** 4 GiB: all that wasm32 addresses (the heap grows up to it). */
  memoryLimit(): number {
    return this.heap.capacity;
  }

  values(dataId: DataId): TypedArray {
    return this.view(dataId);
  }

  output(values: TypedArray | Float64Array, shape: Shape, dtype: DType = 'float32'): TensorInfo {
    const info = this.allocate(shape, dtype);
    this.view(info.dataId).set(values);
    return info;
  }

  /** A new uninitialized (not zeroed when reused) block for a tensor of this shape. */
  allocate(shape: Shape, dtype: DType = 'float32'): TensorInfo {
    const length = sizeOf(shape);
    const bytes = Math.max(length * 4, 4);
    const offset = this.heap.alloc(bytes);
    const dataId = {};
    this.blocks.set(dataId, { offset, bytes, length, dtype });
    return { dataId, shape, dtype };
  }

  /** Byte offset of a tensor's block in the heap. */
  offset(dataId: DataId): number {
    return this.block(dataId).offset;
  }

  /** A view of the block (re-create after any allocation: a plain memory detaches when it grows). */
  view(dataId: DataId): TypedArray {
    const { offset, length, dtype } = this.block(dataId);
    return dtype === 'int32' ? this.heap.i32(offset, length) : this.heap.f32(offset, length);
  }

  private block(dataId: DataId): Block {
    const block = this.blocks.get(dataId);
    if (!block) throw new Error('wasm backend: unknown or disposed buffer');
    return block;
  }

  /** Stops the worker threads. */
  dispose(): void {
    void this.pool.dispose();
  }
}
