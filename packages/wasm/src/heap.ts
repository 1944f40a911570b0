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
  lrnImages(...args: number[]): void;
  lrnGradImages(...args: number[]): void;
  maxPoolStride2(...args: number[]): void;
  maxPoolGradStride2(...args: number[]): void;
  lrnTiles(...args: number[]): void;
  lrnGradTiles(...args: number[]): void;
  lrnScratchFloats(size: number): number;
  lrnGradScratchFloats(size: number): number;
  binary(...args: number[]): void;
  rectify(op: number, x: number, y: number, n: number): void;
  reluGrad(dy: number, y: number, out: number, n: number): void;
  sumMiddle(
    x: number,
    outer: number,
    kept: number,
    inner: number,
    y: number,
    k0: number,
    k1: number,
  ): void;
  convForward(...args: number[]): void;
  biasActivation(
    y: number,
    bias: number,
    c0: number,
    c1: number,
    plane: number,
    flags: number,
  ): void;
  convBackpropInput(...args: number[]): void;
  convBackpropFilter(...args: number[]): void;
  winogradWeights(...args: number[]): void;
  winogradInput(...args: number[]): void;
  winogradOutput(...args: number[]): void;
  weightedSum(...args: number[]): void;
  winogradGradOutput(...args: number[]): void;
  winogradFilterGemm(...args: number[]): void;
  winogradFilterOutput(...args: number[]): void;
  winograd5Weights(...args: number[]): void;
  winograd5Input(...args: number[]): void;
  winograd5Output(...args: number[]): void;
  winogradPackWeights(...args: number[]): void;
  winogradGemmPacked(...args: number[]): void;
  packedAFloats(m: number, k: number): number;
  winograd5GradOutput(...args: number[]): void;
  winograd5FilterOutput(...args: number[]): void;
  winograd43Weights(...args: number[]): void;
  winograd43Input(...args: number[]): void;
  winograd43Output(...args: number[]): void;
  winograd43GradOutput(...args: number[]): void;
  winograd43FilterOutput(...args: number[]): void;
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
  /** End of the highest live block: everything above it is free. */
  private top: number;
  private peak: number;
  /** Free blocks below `top`, by offset (ascending), with their sizes; neighbours are merged. */
  private readonly freeOffsets: number[] = [];
  private readonly freeSizes = new Map<number, number>();

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
    this.peak = this.top;
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

  /**
   * Allocates `bytes` (rounded up to 64) and returns the block's byte offset. The smallest free
   * block that holds it is used first (split when larger), so memory freed by one shape serves
   * another; only when none fits does the heap grow.
   */
  alloc(bytes: number): number {
    const size = blockSize(bytes);
    const offset = this.takeFree(size) ?? this.grow(size);
    this.liveBytes += size;
    return offset;
  }

  /** Returns a block: it is merged with free neighbours, and the top of the heap drops if it was there. */
  release(offset: number, bytes: number): void {
    let start = offset;
    let size = blockSize(bytes);
    this.liveBytes -= size;
    const offsets = this.freeOffsets;
    let at = lowerBound(offsets, start);
    const previous = at > 0 ? offsets[at - 1] : undefined;
    if (previous !== undefined) {
      const previousSize = this.freeSizes.get(previous) as number;
      if (previous + previousSize === start) {
        start = previous;
        size += previousSize;
        at--;
        offsets.splice(at, 1);
        this.freeSizes.delete(previous);
      }
    }
    const next = offsets[at];
    if (next !== undefined && start + size === next) {
      size += this.freeSizes.get(next) as number;
      offsets.splice(at, 1);
      this.freeSizes.delete(next);
    }
    if (start + size === this.top) {
      this.top = start;
      return;
    }
    offsets.splice(at, 0, start);
    this.freeSizes.set(start, size);
  }

  /** Bytes from the start of the heap to the highest allocation ever made (what the memory must hold). */
  get highWater(): number {
    return this.peak;
  }

  /** Bytes from the start of the heap to the end of its highest live block. */
  get used(): number {
    return this.top;
  }

  /** Bytes in free blocks below the top of the heap (reused before the heap grows). */
  get freeBytes(): number {
    let total = 0;
    for (const size of this.freeSizes.values()) total += size;
    return total;
  }

  /** The most bytes this heap can ever hold: 4 GiB, all that wasm32 addresses. */
  get capacity(): number {
    return MAX_PAGES * PAGE;
  }

  private takeFree(size: number): number | undefined {
    let best = -1;
    let bestSize = Number.POSITIVE_INFINITY;
    const offsets = this.freeOffsets;
    for (let i = 0; i < offsets.length; i++) {
      const candidate = this.freeSizes.get(offsets[i]) as number;
      if (candidate >= size && candidate < bestSize) {
        best = i;
        bestSize = candidate;
        if (candidate === size) break;
      }
    }
    if (best < 0) return undefined;
    const offset = offsets[best];
    this.freeSizes.delete(offset);
    if (bestSize === size) offsets.splice(best, 1);
    else {
      offsets[best] = offset + size;
      this.freeSizes.set(offset + size, bestSize - size);
    }
    return offset;
  }

  private grow(size: number): number {
    const offset = this.top;
    const end = offset + size;
    const needed = Math.ceil(end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (needed > 0) {
      try {
        this.memory.grow(needed);
      } catch {
        throw new RangeError(
          `wasm backend: cannot grow the heap to ${mebibytes(end)} MiB to allocate ${mebibytes(size)} MiB (${mebibytes(this.liveBytes)} MiB live; wasm32 addresses at most 4096 MiB)`,
        );
      }
    }
    this.top = end;
    if (end > this.peak) this.peak = end;
    return offset;
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

function blockSize(bytes: number): number {
  return Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
}

function mebibytes(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

/** The first index of the sorted `values` whose value is >= `value`. */
function lowerBound(values: number[], value: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function abortFromWasm(): never {
  throw new Error('wasm backend: a kernel aborted (out-of-range access)');
}
