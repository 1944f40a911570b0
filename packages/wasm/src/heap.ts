import {
  plainModule,
  plainRelaxedModule,
  sharedModule,
  sharedRelaxedModule,
} from './generated/wasm-binaries.js';

/** The functions the kernels module exports (pointers are byte offsets into the heap). */
export interface KernelExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  sgemm(
    m: number,
    n: number,
    k: number,
    a: number,
    aRow: number,
    aCol: number,
    b: number,
    bRow: number,
    bCol: number,
    c: number,
    ldc: number,
    accumulate: number,
    n0: number,
    n1: number,
    scratch: number,
  ): void;
  im2col(...args: number[]): void;
  col2im(...args: number[]): void;
  maxPool(...args: number[]): void;
  maxPoolSeparable(...args: number[]): void;
  maxPoolGrad(...args: number[]): void;
  avgPool(...args: number[]): void;
  avgPoolGrad(...args: number[]): void;
  lrn(...args: number[]): void;
  lrnGrad(...args: number[]): void;
  binary(...args: number[]): void;
  rectify(op: number, x: number, y: number, n: number): void;
  sumMiddle(x: number, outer: number, kept: number, inner: number, y: number): void;
  convForward(...args: number[]): void;
  convBackpropInput(...args: number[]): void;
  convBackpropFilter(...args: number[]): void;
}

const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB, all that wasm32 can address; a shared memory must declare its maximum. */
const MAX_PAGES = 65536;

function decode(base64: string): Uint8Array {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** True where a shared WebAssembly.Memory can be made (Node; browsers when crossOriginIsolated). */
export function canShareMemory(): boolean {
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer !== 'undefined';
  } catch {
    return false;
  }
}

let relaxedSupport: boolean | undefined;

/**
 * Whether this engine runs relaxed SIMD (checked once, by validating the relaxed build: Chrome
 * 114+, Firefox 120+, Node 22+; Node 20 with `--experimental-wasm-relaxed-simd`). The
 * `GPUNET_WASM_RELAXED_SIMD=0` environment variable turns it off (to compare).
 */
export function relaxedSimdSupported(): boolean {
  if (relaxedSupport === undefined) {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
      ?.env;
    relaxedSupport =
      env?.GPUNET_WASM_RELAXED_SIMD !== '0' &&
      WebAssembly.validate(decode(plainRelaxedModule) as BufferSource);
  }
  return relaxedSupport;
}

function moduleBytes(shared: boolean, relaxed: boolean): BufferSource {
  const base64 = shared
    ? relaxed
      ? sharedRelaxedModule
      : sharedModule
    : relaxed
      ? plainRelaxedModule
      : plainModule;
  return decode(base64) as BufferSource;
}

/**
 * The Wasm heap: one memory holding every tensor of the backend, with the compiled kernels
 * instantiated on it. Blocks are 64-byte aligned; freed blocks are kept in lists by size and
 * reused first, so a training loop on fixed shapes stops growing the heap after its first step.
 */
export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly kernels: KernelExports;
  readonly shared: boolean;
  /** Whether the kernels use relaxed SIMD's fused multiply-add. */
  readonly relaxedSimd = relaxedSimdSupported();
  /** Bytes in live blocks. */
  liveBytes = 0;
  private top: number;
  private readonly free = new Map<number, number[]>();

  private constructor(
    module: WebAssembly.Module,
    instance: WebAssembly.Instance,
    memory: WebAssembly.Memory,
    shared: boolean,
  ) {
    this.module = module;
    this.memory = memory;
    this.shared = shared;
    this.kernels = instance.exports as unknown as KernelExports;
    this.top = Math.ceil(this.kernels.heapBase() / ALIGN) * ALIGN;
  }

  /**
   * Compiles and instantiates the kernels synchronously (Node, and browsers for modules this
   * small; an engine that refuses throws, and `create` is the way there).
   */
  static createSync(shared: boolean): WasmHeap {
    const module = new WebAssembly.Module(moduleBytes(shared, relaxedSimdSupported()));
    const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared });
    const instance = new WebAssembly.Instance(module, {
      env: { memory, abort: abortFromWasm },
    });
    return new WasmHeap(module, instance, memory, shared);
  }

  /** Compiles and instantiates the kernels on a new memory (shared when `shared`). */
  static async create(shared: boolean): Promise<WasmHeap> {
    const module = await WebAssembly.compile(moduleBytes(shared, relaxedSimdSupported()));
    const memory = new WebAssembly.Memory({ initial: 256, maximum: MAX_PAGES, shared });
    const instance = await WebAssembly.instantiate(module, {
      env: { memory, abort: abortFromWasm },
    });
    return new WasmHeap(module, instance, memory, shared);
  }

  /** Allocates `bytes` (rounded up to 64) and returns the block's byte offset. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes += size;
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) return reused;
    const offset = this.top;
    this.top += size;
    const needed = Math.ceil(this.top / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) {
      try {
        this.memory.grow(needed);
      } catch {
        this.top -= size;
        this.liveBytes -= size;
        throw new RangeError(
          `wasm backend: cannot grow the heap to ${(this.top + size) / 2 ** 20} MiB (wasm32 addresses at most 4 GiB)`,
        );
      }
    }
    return offset;
  }

  /** Returns a block to its size's free list. */
  release(offset: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.liveBytes -= size;
    const list = this.free.get(size);
    if (list) list.push(offset);
    else this.free.set(size, [offset]);
  }

  /** Bytes from the start of the heap to its highest allocation (what the memory must hold). */
  get highWater(): number {
    return this.top;
  }

  /** A float32 view of `length` elements at `offset`; re-create views after any allocation. */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  /** An int32 view of `length` elements at `offset`. */
  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }
}

function abortFromWasm(): never {
  throw new Error('wasm backend: a kernel aborted (out-of-range access)');
}
