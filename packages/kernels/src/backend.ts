/**
 * The gpu.js backend: one class for every gpu.js mode. Data stays where the mode keeps it
 * (textures on the GL modes, GPU buffers on webgpu, typed arrays on cpu and webasm) from kernel
 * to kernel; only `read` brings it back to the host.
 *
 * webgpu is asynchronous: every gpu.js kernel call returns a Promise. A buffer there is the
 * Promise of its gpu.js buffer handle, and launches, uploads and frees go through one queue in
 * program order, so a kernel never binds a buffer that a later `dispose` freed, and ops chain
 * without waiting for the GPU; `await t.data()` reads back (`dataSync` cannot). An error in a
 * webgpu kernel surfaces at the read.
 *
 * `webasm-threads` is webasm under the same asynchronous contract: gpu.js splits each kernel
 * call over a pool of worker threads, and a buffer is a host array or the Promise of one.
 */
import type { Backend, DataId, DType, Shape, TensorInfo, TypedArray } from '@gpunet/tensor';
import { GPU, type IKernelRunShortcut, Texture } from 'gpu.js';
import { size } from './internal/index-math.js';
import { pieceLength } from './internal/pieces.js';
import { BLOCKED_MODES, flattenVec4 } from './internal/vec4.js';
import { type GpuBackendName, type GpuMode, probeMode } from './modes.js';

/** The parts of gpu.js's WebGPU buffer handle (`WebGPUBufferResult`) the backend uses. */
interface GpuBufferHandle {
  toArray(): Promise<Float32Array>;
  delete(): void;
}

/**
 * What a buffer holds: a typed array (cpu, webasm), a gpu.js texture (GL modes), the Promise of
 * a WebGPU buffer handle (webgpu), or the Promise of a typed array (webasm-threads).
 */
type Stored = Float32Array | Texture | Promise<GpuBufferHandle | Float32Array>;

/** One contiguous piece of a tensor stored in several buffers (see `GpuBackend.indexLimit`). */
interface Piece {
  value: Stored;
  length: number;
}

interface Record_ {
  /** The buffer; null when the tensor is stored in `pieces`. */
  value: Stored | null;
  /** A tensor over `indexLimit` elements on the GL modes and webgpu: its consecutive pieces. */
  pieces: Piece[] | null;
  length: number;
  dtype: DType;
  /** A view of another record's buffer (made while splitting a kernel): never frees it. */
  isView: boolean;
}

/**
 * The largest tensor (in elements) whose flat indices the generated kernels compute exactly in
 * f32 arithmetic: webasm, the GL modes and webgpu compute indices as f32, and `idiv` adds one
 * half before dividing, so indices must stay below 2^23 (see internal/index-math.ts). The cpu
 * mode computes in JavaScript doubles and has no such limit. Kernels over larger tensors are
 * split into launches that each stay under it (internal/split.ts).
 */
export const EXACT_INDEX_LIMIT = 2 ** 23;

/**
 * The most tensors one kernel reads: WebGPU allows 8 storage buffers per shader stage, one of
 * them the output (WebGL guarantees 16 texture units). Merges and concats read in groups.
 */
export const MAX_KERNEL_INPUTS = 7;

/** Counters the tests and benchmarks read. */
export interface GpuBackendStats {
  /** Kernels compiled so far; a training step on fixed shapes compiles none after its first run. */
  compiles: number;
  /** Kernel launches so far. */
  launches: number;
  /** Launches on webasm that ran as cpu-mode kernels because a tensor was over the index limit. */
  fallbacks: number;
  /** Kernels that ran split into several launches because a tensor was over the index limit. */
  splits: number;
  /** Blocks of a split kernel that straddled stored pieces and were copied out (GL, webgpu). */
  copies: number;
}

/** Options of a `GpuBackend`. */
export interface GpuBackendOptions {
  /**
   * webasm only: run every kernel under gpu.js's asynchronous contract, which splits a kernel
   * of at least 4096 outputs over a pool of worker threads (Node `worker_threads`; Web Workers
   * on a cross-origin isolated page) sharing one WebAssembly memory. Results are the same as
   * on one thread, bit for bit; reads must be asynchronous (`await t.data()`), as on webgpu.
   * Registered as the backend `webasm-threads`.
   */
  threads?: boolean;
}

/**
 * The gpu.js backend of one mode. Kernels are registered under the backend's name: the mode's,
 * or `webasm-threads` for webasm with `threads`.
 */
export class GpuBackend implements Backend {
  /** The name the backend is registered under (the mode, or `webasm-threads`). */
  readonly name: GpuBackendName;
  /** The gpu.js mode its kernels are compiled for. */
  readonly mode: GpuMode;
  readonly gpu: GPU;
  /** True on the modes whose kernels output textures (data lives on the device). */
  readonly isTextureMode: boolean;
  readonly stats: GpuBackendStats = {
    compiles: 0,
    launches: 0,
    fallbacks: 0,
    splits: 0,
    copies: 0,
  };
  private cpuGpu: GPU | null = null;
  private readonly store = new Map<DataId, Record_>();
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  private bytes = 0;
  /** webasm-threads: the worker pool every kernel shares (see `sharePool`). */
  private pool: { destroyed?: boolean } | null = null;
  /** webgpu and webasm-threads: launches, uploads and frees, in program order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** True on webgpu and webasm-threads, whose kernels return Promises. */
  readonly isAsync: boolean;
  /** True on cpu and webasm (threads or not), whose buffers are host arrays. */
  readonly holdsHostArrays: boolean;
  /** True on webasm-threads: webasm kernels under gpu.js's async contract, on worker threads. */
  private readonly threads: boolean;
  /**
   * The most elements one launch may index (default EXACT_INDEX_LIMIT). A kernel meeting a
   * larger tensor runs split into launches under it; on the GL modes and webgpu such a tensor
   * is stored as consecutive pieces of at most this many elements. Lowering it makes small
   * tensors take the split paths, which is how the tests exercise them. Not used by `cpu`.
   */
  indexLimit = EXACT_INDEX_LIMIT;
  /** True on the modes that compute indices in f32 and so split large tensors (all but cpu). */
  readonly splitsLargeTensors: boolean;
  /**
   * True on the modes (webgpu, webgl2) where Conv2d, its data gradient and BatchMatMul compute
   * four outputs per thread (`run(..., { components: 4 })`, internal/vec4.ts); the other modes
   * run the one-output kernels. Setting it to false makes these modes run the one-output
   * kernels too (the same results within the mode's tolerance): what bench/blocked-ab.mjs
   * compares.
   */
  blocksOutputs: boolean;

  /** Makes the backend of `mode`, or throws saying why the mode cannot run here. */
  constructor(mode: GpuMode, options: GpuBackendOptions = {}) {
    const support = probeMode(mode);
    if (!support.isSupported)
      throw new Error(`@gpunet/kernels: mode '${mode}' cannot run here: ${support.reason}`);
    const threads = options.threads ?? false;
    if (threads && mode !== 'webasm')
      throw new Error(
        `@gpunet/kernels: the threads option is for mode 'webasm' (gpu.js threads only its WebAssembly kernels), not '${mode}'`,
      );
    this.mode = mode;
    this.threads = threads;
    this.name = threads ? 'webasm-threads' : mode;
    this.isTextureMode = mode === 'headlessgl' || mode === 'webgl' || mode === 'webgl2';
    this.isAsync = mode === 'webgpu' || threads;
    this.holdsHostArrays = mode === 'cpu' || mode === 'webasm';
    this.splitsLargeTensors = mode !== 'cpu';
    this.blocksOutputs = BLOCKED_MODES.includes(mode);
    this.gpu = new GPU({ mode });
  }

  /** Runs `task` after everything queued before it (async modes); its failure does not stop the queue. */
  private enqueue<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    // int32 tensors are stored as float32: every gpu.js mode computes in f32, and int32 values
    // in gpunet are labels and indices, exact below 2^24.
    const host = values instanceof Float32Array ? values.slice() : Float32Array.from(values);
    if (this.holdsHostArrays || host.length === 0) return this.adopt(host, dtype);
    // Upload once, so that every kernel argument on a GL mode is a texture: a compiled gpu.js
    // kernel is specialised to its argument types, and mixing arrays and textures recompiles.
    // A tensor over the index limit is uploaded as consecutive pieces of whole rows (of its
    // longest trailing block that fits, `pieceLength`), so that the split kernels' blocks of
    // rows are whole pieces, passed on without a copy.
    const step = host.length <= this.indexLimit ? host.length : pieceLength(shape, this.indexLimit);
    const pieces: Piece[] = [];
    for (let start = 0; start < host.length; start += step) {
      const part = host.subarray(start, Math.min(host.length, start + step));
      pieces.push({ value: this.upload(part), length: part.length });
    }
    return pieces.length === 1
      ? this.adopt(pieces[0].value, dtype, host.length)
      : this.adoptPieces(pieces, dtype);
  }

  /** A host array as a texture (GL modes) or the Promise of a buffer (webgpu). */
  private upload(host: Float32Array): Stored {
    const upload = this.kernel('function(a) { return a[this.thread.x]; }', host.length, [
      host.length,
    ]);
    this.stats.launches++;
    if (this.isAsync)
      return this.enqueue(() => upload(host) as unknown as Promise<GpuBufferHandle>);
    return upload(host) as Texture;
  }

  async read(dataId: DataId): Promise<TypedArray> {
    const record = this.record(dataId);
    if (!this.isAsync) return this.readSync(dataId);
    const out = new Float32Array(record.length);
    let offset = 0;
    for (const piece of this.piecesOf(record)) {
      // A host array (webasm-threads, and empty tensors on webgpu too) or a WebGPU buffer.
      const value = await (piece.value as Float32Array | Promise<GpuBufferHandle | Float32Array>);
      const values = value instanceof Float32Array ? value : await value.toArray();
      out.set(values.subarray(0, piece.length), offset);
      offset += piece.length;
    }
    return record.dtype === 'int32' ? Int32Array.from(out) : out;
  }

  /** Reads a buffer back (GL modes: a texture readback) as a fresh array of its dtype. */
  readSync(dataId: DataId): TypedArray {
    const record = this.record(dataId);
    if (this.isAsync) {
      const why =
        this.mode === 'webgpu'
          ? 'reads from WebGPU are asynchronous'
          : "kernels run on worker threads and their results arrive asynchronously (the 'webasm' backend reads synchronously, on one thread)";
      throw new Error(
        `@gpunet/kernels (${this.name}): ${why}: use \`await tensor.data()\` (or \`array()\`), not dataSync(), item() or a synchronous read`,
      );
    }
    const out = new Float32Array(record.length);
    let offset = 0;
    for (const piece of this.piecesOf(record)) {
      const values =
        piece.value instanceof Texture ? (piece.value.toArray() as Float32Array) : piece.value;
      out.set((values as Float32Array).subarray(0, piece.length), offset);
      offset += piece.length;
    }
    // Int32Array.from truncates toward zero; int32 results are exact integers already.
    return record.dtype === 'int32' ? Int32Array.from(out) : out;
  }

  /** The pieces of a record: its one buffer, or the pieces of a split tensor. */
  private piecesOf(record: Record_): Piece[] {
    return record.pieces ?? [{ value: record.value as Stored, length: record.length }];
  }

  disposeData(dataId: DataId): void {
    const record = this.store.get(dataId);
    if (!record) return;
    this.store.delete(dataId);
    if (record.isView) return;
    for (const piece of this.piecesOf(record)) this.free(piece.value);
    this.bytes -= record.length * 4;
  }

  private free(value: Stored): void {
    if (value instanceof Texture) value.delete();
    else if (value instanceof Promise && !this.holdsHostArrays) {
      // After every launch queued so far, which may still bind this buffer.
      void this.enqueue(async () =>
        ((await value.catch(() => null)) as GpuBufferHandle | null)?.delete(),
      );
    }
  }

  numBytes(): number {
    return this.bytes;
  }

  dispose(): void {
    for (const dataId of [...this.store.keys()]) this.disposeData(dataId);
    for (const k of this.kernels.values()) k.destroy();
    this.kernels.clear();
    this.gpu.destroy();
    this.cpuGpu?.destroy();
  }

  /**
   * webasm-threads: the worker threads its kernels run on, one per core once the first kernel
   * of at least 4096 outputs has run (smaller kernels run on the calling thread); 0 elsewhere.
   */
  get workerCount(): number {
    return (this.pool as { liveWorkerCount?: number } | null)?.liveWorkerCount ?? 0;
  }

  /** Number of live buffers, for leak tests. */
  numBuffers(): number {
    return this.store.size;
  }

  /** Number of elements a buffer holds. */
  lengthOf(dataId: DataId): number {
    return this.record(dataId).length;
  }

  /**
   * Runs a generated kernel over a 1-D output of `outSize` elements with the given tensors as
   * arguments, and returns the output's info. The compiled kernel is cached by its source and
   * the argument and output sizes, so the same op on the same shapes compiles once.
   *
   * Every tensor must be within `indexLimit` elements: kernels meeting larger ones are split
   * before they get here (internal/split.ts). On webasm a kernel that could not be split runs
   * as a cpu-mode kernel instead (exact, slower; counted in `stats.fallbacks`).
   *
   * `components: 4` (only where `blocksOutputs`): the source returns `[v0, v1, v2, v3]`, the
   * outputs `4 * i` to `4 * i + 3` of thread `i`, for an output whose size is a multiple of 4.
   */
  run(
    source: string,
    inputs: readonly TensorInfo[],
    shape: Shape,
    dtype: DType = 'float32',
    { components = 1 }: { components?: 1 | 4 } = {},
  ): TensorInfo {
    const outSize = size(shape);
    if (outSize === 0) return { dataId: this.adopt(new Float32Array(0), dtype), shape, dtype };
    const args = inputs.map((t) => this.solid(this.record(t.dataId)));
    const largest = Math.max(outSize, ...args.map((a) => a.length));
    let onCpu = false;
    if (this.splitsLargeTensors && largest > this.indexLimit) {
      if (!this.holdsHostArrays) {
        throw new Error(
          `@gpunet/kernels (${this.name}): a tensor of ${largest} elements is over the ${this.indexLimit}-element ` +
            'limit of exact f32 index arithmetic on the GL modes and webgpu, and this kernel cannot be split there',
        );
      }
      // webasm holds host arrays, so the same generated kernel can run in cpu mode (JavaScript
      // doubles, exact indices) on them: slower, but correct.
      onCpu = true;
      this.stats.fallbacks++;
    }
    if (components === 4 && (!this.blocksOutputs || onCpu || outSize % 4 !== 0))
      throw new Error(`internal: a blocked kernel of ${outSize} outputs on ${this.name}`);
    const out = this.launch(
      source,
      args.map((a) => a.value as Stored),
      args.map((a) => a.length),
      outSize,
      onCpu,
      components,
    );
    return { dataId: this.adopt(out, dtype, outSize), shape, dtype };
  }

  /**
   * The record with its pieces merged into one buffer when they fit in one launch (a tensor
   * stored in pieces under a lower `indexLimit`); a record over the limit is left as it is.
   */
  private solid(record: Record_): Record_ {
    if (record.pieces && record.length <= this.indexLimit) {
      const pieces = record.pieces;
      record.value = this.merge(pieces);
      record.pieces = null;
      for (const piece of pieces) this.free(piece.value);
    }
    return record;
  }

  /** Launches a kernel on stored buffers; on the async modes through the queue. */
  private launch(
    source: string,
    args: readonly Stored[],
    argSizes: readonly number[],
    outSize: number,
    onCpu = false,
    components: 1 | 4 = 1,
  ): Stored {
    const kernel = this.kernel(source, outSize / components, argSizes, onCpu);
    this.stats.launches++;
    if (this.isAsync) {
      return this.enqueue(async () => {
        const values = await Promise.all(args);
        if (this.threads) this.sharePool(kernel);
        const out = await kernel(...(values as unknown as Parameters<typeof kernel>));
        if (this.threads) this.sharePool(kernel);
        if (components === 4) return flattenVec4(out as unknown as GpuBufferHandle, outSize);
        // webasm-threads computes a multiple of 4 outputs (see `kernel`): drop the padding.
        if (out instanceof Float32Array && out.length > outSize) return out.subarray(0, outSize);
        return out as unknown as GpuBufferHandle | Float32Array;
      }) as Stored;
    }
    const out = kernel(...args) as Stored;
    return components === 4 ? flattenVec4(out, outSize) : out;
  }

  /**
   * webasm-threads: every kernel runs on one worker pool. gpu.js gives each WebAssembly kernel
   * a pool of its own (one worker per core, made at its first threaded call), which for the
   * dozens of kernels of a training step would be dozens of pools; launches here run one at a
   * time, so one pool serves them all. The pool is the first kernel's, handed to each
   * kernel before its first call (a private field of gpu.js 2.24's `WebAssemblyKernel`; if it
   * is not there, each kernel keeps its own pool, which is slower to start but just as exact).
   */
  private sharePool(kernel: IKernelRunShortcut): void {
    const inner = (kernel as unknown as { kernel?: { _pool?: { destroyed?: boolean } | null } })
      .kernel;
    if (!inner || !('_pool' in inner)) return;
    if (inner._pool == null) {
      if (this.pool && !this.pool.destroyed) inner._pool = this.pool;
    } else if (!this.pool || this.pool.destroyed) this.pool = inner._pool;
  }

  /**
   * Elements `[start, start + length)` of a tensor as a tensor of `shape` (of that many
   * elements), for the split paths. A range that is one whole buffer (or, on webasm, any range
   * of a host array) is a view that shares the buffer; otherwise the range is copied by one
   * kernel. Dispose the result like any tensor (a view frees nothing).
   */
  range(info: TensorInfo, start: number, length: number, shape: Shape): TensorInfo {
    const record = this.record(info.dataId);
    if (length > this.indexLimit) throw new Error(`internal: a range of ${length} elements`);
    const view = (value: Stored): TensorInfo => {
      const dataId = {};
      this.store.set(dataId, { value, pieces: null, length, dtype: record.dtype, isView: true });
      return { dataId, shape, dtype: record.dtype };
    };
    if (record.value instanceof Float32Array)
      return view(record.value.subarray(start, start + length));
    if (this.holdsHostArrays) {
      // webasm-threads: the Promise of a host array.
      const whole = record.value as Promise<Float32Array>;
      return view(whole.then((values) => values.subarray(start, start + length)));
    }
    const parts: Piece[] = [];
    const copies: Stored[] = [];
    let pieceStart = 0;
    for (const piece of this.piecesOf(record)) {
      const from = Math.max(start, pieceStart);
      const to = Math.min(start + length, pieceStart + piece.length);
      if (from === pieceStart && to - from === piece.length) parts.push(piece);
      else if (from < to) {
        const source = `function(v) {\nreturn v[this.thread.x + ${from - pieceStart}];\n}`;
        const value = this.launch(source, [piece.value], [piece.length], to - from);
        parts.push({ value, length: to - from });
        copies.push(value);
      }
      pieceStart += piece.length;
    }
    if (parts.length === 1 && copies.length === 0) return view(parts[0].value);
    this.stats.copies++;
    const merged = this.merge(parts);
    if (parts.length > 1) for (const copy of copies) this.free(copy);
    return { dataId: this.adopt(merged, record.dtype, length), shape, dtype: record.dtype };
  }

  /**
   * The tensor whose elements are those of `parts` one after the other, as `shape`; takes the
   * parts' buffers over (the parts are gone afterwards). On the GL modes and webgpu a result
   * over `indexLimit` elements keeps the parts as its pieces, a smaller one is merged into one
   * buffer; webasm concatenates host arrays.
   */
  assemble(parts: readonly TensorInfo[], shape: Shape): TensorInfo {
    const records = parts.map((p) => this.record(p.dataId));
    const dtype = parts[0].dtype;
    const length = size(shape);
    if (parts.length === 1) return { dataId: parts[0].dataId, shape, dtype };
    const pieces = records.flatMap((r) => this.piecesOf(r));
    for (const p of parts) {
      const record = this.record(p.dataId);
      this.store.delete(p.dataId);
      if (!record.isView) this.bytes -= record.length * 4;
    }
    if (this.holdsHostArrays) {
      const join = (values: readonly Float32Array[]): Float32Array => {
        const out = new Float32Array(length);
        let offset = 0;
        for (const v of values) {
          out.set(v, offset);
          offset += v.length;
        }
        return out;
      };
      const values = pieces.map((p) => p.value as Float32Array | Promise<Float32Array>);
      const out = values.every((v) => v instanceof Float32Array)
        ? join(values as Float32Array[])
        : Promise.all(values).then(join);
      return { dataId: this.adopt(out, dtype, length), shape, dtype };
    }
    if (length > this.indexLimit) return { dataId: this.adoptPieces(pieces, dtype), shape, dtype };
    const merged = this.merge(pieces);
    for (const piece of pieces) this.free(piece.value);
    return { dataId: this.adopt(merged, dtype, length), shape, dtype };
  }

  /** One buffer holding `pieces` one after the other (at most `indexLimit` elements in all). */
  private merge(pieces: readonly Piece[]): Stored {
    if (pieces.length === 1) return pieces[0].value;
    if (pieces.length > MAX_KERNEL_INPUTS) {
      const groups: Piece[] = [];
      for (let k = 0; k < pieces.length; k += MAX_KERNEL_INPUTS) {
        const group = pieces.slice(k, k + MAX_KERNEL_INPUTS);
        const value = this.merge(group);
        groups.push({ value, length: group.reduce((n, p) => n + p.length, 0) });
      }
      const merged = this.merge(groups);
      for (const group of groups) this.free(group.value);
      return merged;
    }
    const lines = ['const i = this.thread.x;'];
    let end = 0;
    pieces.forEach((piece, k) => {
      const read = `return v${k}[i - ${end}];`;
      end += piece.length;
      lines.push(k === pieces.length - 1 ? read : `if (i < ${end}) { ${read} }`);
    });
    return this.launch(
      `function(${pieces.map((_, k) => `v${k}`).join(', ')}) {\n${lines.join('\n')}\n}`,
      pieces.map((p) => p.value),
      pieces.map((p) => p.length),
      end,
    );
  }

  private kernel(
    source: string,
    outSize: number,
    argSizes: readonly number[],
    onCpu = false,
  ): IKernelRunShortcut {
    const key = `${source}\n/* out ${outSize} args ${argSizes.join(',')}${onCpu ? ' cpu' : ''} */`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      if (onCpu) this.cpuGpu ??= new GPU({ mode: 'cpu' });
      const gpu = onCpu && this.cpuGpu ? this.cpuGpu : this.gpu;
      // webasm-threads: gpu.js's workers run four outputs per SIMD step only when the output's
      // row (here the whole 1-D output) is a multiple of 4 long, else one at a time; so compute
      // up to 3 outputs more (reads past an array are clamped into it) and drop them.
      const threaded = this.threads && !onCpu;
      kernel = gpu.createKernel(source, {
        output: [threaded ? Math.ceil(outSize / 4) * 4 : outSize],
        pipeline: true,
        // A fresh output texture per call: without it a GL kernel overwrites its last output.
        immutable: true,
        precision: 'single',
        tactic: 'precision',
        // webasm-threads: gpu.js's async contract, under which webasm splits over workers.
        asyncMode: threaded,
      });
      this.kernels.set(key, kernel);
      this.stats.compiles++;
    }
    return kernel;
  }

  private record(dataId: DataId): Record_ {
    const record = this.store.get(dataId);
    if (!record) throw new Error(`@gpunet/kernels (${this.name}): unknown or disposed buffer`);
    return record;
  }

  private adopt(value: Stored, dtype: DType, knownLength?: number): DataId {
    const length =
      knownLength ??
      (value instanceof Texture
        ? size((value as unknown as { output: number[] }).output)
        : (value as Float32Array).length);
    const dataId = {};
    this.store.set(dataId, { value, pieces: null, length, dtype, isView: false });
    this.bytes += length * 4;
    return dataId;
  }

  private adoptPieces(pieces: Piece[], dtype: DType): DataId {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    const dataId = {};
    this.store.set(dataId, { value: null, pieces, length, dtype, isView: false });
    this.bytes += length * 4;
    return dataId;
  }
}
