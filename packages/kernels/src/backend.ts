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
 * The class wires four modules, one job each: backend/storage.ts (the tensors and their bytes),
 * backend/queue.ts (webgpu's program order), backend/compile-cache.ts (compiled kernels) and
 * backend/pieces.ts (tensors over the index limit, stored as pieces).
 */
import type { Backend, DataId, DType, Shape, TensorInfo, TypedArray } from '@gpunet/tensor';
import { GPU, Texture } from 'gpu.js';
import { CompileCache } from './backend/compile-cache.js';
import { assembleParts, type PieceHost, rangeOf, solidify } from './backend/pieces.js';
import { LaunchQueue } from './backend/queue.js';
import { fastReads } from './backend/reads.js';
import {
  type GpuBufferHandle,
  type Piece,
  piecesOf,
  type Stored,
  TensorStore,
} from './backend/storage.js';
import { size } from './internal/index-math.js';
import { LOOP_LIMIT } from './internal/loops.js';
import { pieceLength } from './internal/pieces.js';
import { BLOCKED_MODES, flattenVec4 } from './internal/vec4.js';
import { type GpuMode, probeMode } from './modes.js';

export { MAX_KERNEL_INPUTS } from './backend/pieces.js';

/**
 * The largest tensor (in elements) whose flat indices the generated kernels compute exactly in
 * f32 arithmetic: webasm, the GL modes and webgpu compute indices as f32, and `idiv` adds one
 * half before dividing, so indices must stay below 2^23 (see internal/index-math.ts). The cpu
 * mode computes in JavaScript doubles and has no such limit. Kernels over larger tensors are
 * split into launches that each stay under it (split.ts).
 */
export const EXACT_INDEX_LIMIT = 2 ** 23;

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

/** The gpu.js backend of one mode, registered under the mode's name. */
export class GpuBackend implements Backend, PieceHost {
  /** The name the backend is registered under: its gpu.js mode. */
  readonly name: GpuMode;
  /** The gpu.js mode its kernels are compiled for (the same as `name`). */
  readonly mode: GpuMode;
  readonly gpu: GPU;
  /** True on the modes whose kernels output textures (data lives on the device). */
  readonly isTextureMode: boolean;
  /** True on webgpu, whose kernels return Promises. */
  readonly isAsync: boolean;
  /** True on cpu and webasm, whose buffers are host arrays. */
  readonly holdsHostArrays: boolean;
  /** True on the modes that compute indices in f32 and so split large tensors (all but cpu). */
  readonly splitsLargeTensors: boolean;
  /**
   * The most loop iterations a thread may run, over all its loops: `LOOP_LIMIT` on the GL modes
   * and webgpu, whose drivers may stop a shader's loops there (llvmpipe does, silently;
   * internal/loops.ts), unbounded on cpu and webasm. Kernels keep under it (long reductions run
   * in passes, long matmuls and filter gradients in launches), and a kernel that would loop
   * longer is refused when compiled. Lowering it makes small kernels take those paths, which
   * is how the tests exercise them.
   */
  loopLimit: number;
  /**
   * The most elements one launch may index (default EXACT_INDEX_LIMIT). A kernel meeting a
   * larger tensor runs split into launches under it; on the GL modes and webgpu such a tensor
   * is stored as consecutive pieces of at most this many elements. Lowering it makes small
   * tensors take the split paths, which is how the tests exercise them. Not used by `cpu`.
   */
  indexLimit = EXACT_INDEX_LIMIT;
  /**
   * True on the modes (webgpu, webgl2) where Conv2d, its two gradients and BatchMatMul compute
   * four outputs per thread (`run(..., { components: 4 })`, internal/vec4.ts); the other modes
   * run the one-output kernels. Setting it to false makes these modes run the one-output
   * kernels too (the same results within the mode's tolerance): what bench/blocked-ab.mjs
   * compares.
   */
  blocksOutputs: boolean;
  /**
   * True on webgl2, where the blocked convolutions read packed copies of their inputs, four
   * floats per texel fetch (kernels/conv-packed.ts). Setting it to false makes them read the
   * flat textures (`blockedConv2d` and its gradients; the same results within the mode's
   * tolerance): what `bench/blocked-ab.mjs --toggle packed` compares.
   */
  packsInputs: boolean;
  /**
   * True on webgl2: a tensor written from the host whose rows (last dim) are a multiple of 4
   * long is uploaded four floats per RGBA texel, the layout of the blocked kernels' outputs,
   * which the packed matmul reads in place (kernels/matmul-packed.ts: a linear layer's weight
   * and input) and every other kernel reads one float at a time. Other tensors are uploaded one
   * float per texel: the strided convolution gradients read those faster (conv1's data and
   * filter gradients measured 0.5x from texels).
   */
  readonly uploadsTexels: boolean;
  /**
   * True on webgl2: kernels read their texture arguments through GLSL functions that compute
   * texture coordinates in f32 (backend/reads.ts) instead of gpu.js's integer-dividing reads.
   * Setting it to false restores gpu.js's reads (the same values): what
   * `bench/blocked-ab.mjs --toggle reads` compares.
   */
  readsInF32: boolean;
  /**
   * True on webgpu, where a stride-1 convolution whose output rows are as wide as its input's
   * (Conv2d, FusedConv2d, Conv2dBackpropInput) takes its four outputs per thread along the
   * flattened plane, wrapping from one row to the next (`planeQuadConv2d`,
   * `planeQuadConv2dBackpropInput`: less padding than quads along each row). Setting it to false
   * makes them take quads along rows (`blockedConv2d`, `blockedConv2dBackpropInput`; the same
   * results within the mode's tolerance): what `bench/blocked-ab.mjs --toggle plane` compares.
   */
  quadsSpanRows: boolean;
  /**
   * True on webgpu, where BatchMatMul with two rows or more computes a 2x2 block of outputs per
   * thread (`pairBlockedMatMul`: four reads for four products, where a row of four takes five).
   * Setting it to false makes it take the 1x4 blocks (the same results within the mode's
   * tolerance): what `bench/blocked-ab.mjs --toggle pairs` compares.
   */
  blocksRowPairs: boolean;
  /** @internal The tensors this backend holds. */
  readonly store: TensorStore;
  private readonly cache: CompileCache;
  private readonly queue = new LaunchQueue();
  readonly stats: GpuBackendStats = {
    compiles: 0,
    launches: 0,
    fallbacks: 0,
    splits: 0,
    copies: 0,
  };

  /** Makes the backend of `mode`, or throws saying why the mode cannot run here. */
  constructor(mode: GpuMode) {
    const support = probeMode(mode);
    if (!support.isSupported)
      throw new Error(`@gpunet/kernels: mode '${mode}' cannot run here: ${support.reason}`);
    this.mode = mode;
    this.name = mode;
    this.isTextureMode = mode === 'headlessgl' || mode === 'webgl' || mode === 'webgl2';
    this.isAsync = mode === 'webgpu';
    this.holdsHostArrays = mode === 'cpu' || mode === 'webasm';
    this.splitsLargeTensors = mode !== 'cpu';
    this.loopLimit = this.holdsHostArrays ? Number.POSITIVE_INFINITY : LOOP_LIMIT;
    this.blocksOutputs = BLOCKED_MODES.includes(mode);
    this.packsInputs = mode === 'webgl2';
    this.uploadsTexels = mode === 'webgl2';
    this.readsInF32 = mode === 'webgl2';
    this.quadsSpanRows = mode === 'webgpu';
    this.blocksRowPairs = mode === 'webgpu';
    this.gpu = new GPU({ mode });
    this.cache = new CompileCache(
      this.gpu,
      () => this.stats.compiles++,
      () => this.loopLimit,
    );
    this.store = new TensorStore(mode);
  }

  write(values: TypedArray, shape: Shape, dtype: DType): DataId {
    // int32 tensors are stored as float32: every gpu.js mode computes in f32, and int32 values
    // in gpunet are labels and indices, exact below 2^24.
    const host = values instanceof Float32Array ? values.slice() : Float32Array.from(values);
    if (this.holdsHostArrays || host.length === 0) return this.store.adopt(host, dtype);
    // Upload once, so that every kernel argument on a GL mode is a texture: a compiled gpu.js
    // kernel is specialised to its argument types, and mixing arrays and textures recompiles.
    // A tensor over the index limit is uploaded as consecutive pieces of whole rows (of its
    // longest trailing block that fits, `pieceLength`), so that the split kernels' blocks of
    // rows are whole pieces, passed on without a copy.
    const step = host.length <= this.indexLimit ? host.length : pieceLength(shape, this.indexLimit);
    const pieces: Piece[] = [];
    // Rows a multiple of 4 long are uploaded in texels on webgl2 (see `uploadsTexels`).
    const inTexels = this.uploadsTexels && shape.length > 0 && shape[shape.length - 1] % 4 === 0;
    for (let start = 0; start < host.length; start += step) {
      const part = host.subarray(start, Math.min(host.length, start + step));
      pieces.push({ value: this.upload(part, inTexels), length: part.length });
    }
    return pieces.length === 1
      ? this.store.adopt(pieces[0].value, dtype, host.length)
      : this.store.adoptPieces(pieces, dtype);
  }

  /**
   * A host array as a texture (GL modes; four floats per texel with `inTexels`) or the Promise
   * of a buffer (webgpu).
   */
  private upload(host: Float32Array, inTexels: boolean): Stored {
    if (inTexels) {
      const source =
        'function(a) { const i = this.thread.x * 4; return [a[i], a[i + 1], a[i + 2], a[i + 3]]; }';
      const texels = Math.ceil(host.length / 4);
      const upload = this.cache.kernel(source, texels, [host.length]);
      this.stats.launches++;
      return flattenVec4(upload(host) as Texture, host.length);
    }
    const source = 'function(a) { return a[this.thread.x]; }';
    const upload = this.cache.kernel(source, host.length, [host.length]);
    this.stats.launches++;
    if (this.isAsync) return this.queue.enqueue(() => asBufferHandle(upload(host)));
    return upload(host) as Texture;
  }

  async read(dataId: DataId): Promise<TypedArray> {
    const entry = this.store.get(dataId);
    if (!this.isAsync) return this.readSync(dataId);
    const out = new Float32Array(entry.length);
    let offset = 0;
    for (const piece of piecesOf(entry)) {
      // A WebGPU buffer, or a host array (an empty tensor).
      const value = await (piece.value as Float32Array | Promise<GpuBufferHandle>);
      const values = value instanceof Float32Array ? value : await value.toArray();
      out.set(values.subarray(0, piece.length), offset);
      offset += piece.length;
    }
    return entry.dtype === 'int32' ? Int32Array.from(out) : out;
  }

  /** Reads a buffer back (GL modes: a texture readback) as a fresh array of its dtype. */
  readSync(dataId: DataId): TypedArray {
    const entry = this.store.get(dataId);
    if (this.isAsync) {
      throw new Error(
        `@gpunet/kernels (${this.name}): reads from WebGPU are asynchronous: use \`await tensor.data()\` (or \`array()\`), not dataSync(), item() or a synchronous read`,
      );
    }
    const out = new Float32Array(entry.length);
    let offset = 0;
    for (const piece of piecesOf(entry)) {
      const values =
        piece.value instanceof Texture ? (piece.value.toArray() as Float32Array) : piece.value;
      out.set((values as Float32Array).subarray(0, piece.length), offset);
      offset += piece.length;
    }
    // Int32Array.from truncates toward zero; int32 results are exact integers already.
    return entry.dtype === 'int32' ? Int32Array.from(out) : out;
  }

  disposeData(dataId: DataId): void {
    const entry = this.store.remove(dataId);
    if (!entry || entry.isView) return;
    for (const piece of piecesOf(entry)) this.free(piece.value);
  }

  /** @internal Frees a buffer; on webgpu after every launch queued so far, which may bind it. */
  free(value: Stored): void {
    if (value instanceof Texture) value.delete();
    else if (value instanceof Promise) {
      void this.queue.enqueue(async () =>
        ((await value.catch(() => null)) as GpuBufferHandle | null)?.delete(),
      );
    }
  }

  numBytes(): number {
    return this.store.numBytes;
  }

  dispose(): void {
    for (const dataId of this.store.ids()) this.disposeData(dataId);
    this.cache.destroy();
  }

  /** Number of live buffers, for leak tests. */
  numBuffers(): number {
    return this.store.count;
  }

  /** Number of elements a buffer holds. */
  lengthOf(dataId: DataId): number {
    return this.store.get(dataId).length;
  }

  /**
   * Runs a generated kernel over a 1-D output of `outSize` elements with the given tensors as
   * arguments, and returns the output's info. The compiled kernel is cached by its source and
   * the argument and output sizes, so the same op on the same shapes compiles once.
   *
   * Every tensor must be within `indexLimit` elements: kernels meeting larger ones are split
   * before they get here (split.ts). On webasm a kernel that could not be split runs as a
   * cpu-mode kernel instead (exact, slower; counted in `stats.fallbacks`).
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
    if (outSize === 0)
      return { dataId: this.store.adopt(new Float32Array(0), dtype), shape, dtype };
    const args = inputs.map((t) => solidify(this, this.store.get(t.dataId)));
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
    return { dataId: this.store.adopt(out, dtype, outSize), shape, dtype };
  }

  /**
   * @internal Launches a kernel on stored buffers; on webgpu through the queue. `packed` (GL
   * modes, with `components: 4`): the result stays gpu.js's `ArrayTexture(4)`, which a kernel
   * taking it as an argument reads four floats per fetch (`v = p[texel]`, `v[0]..v[3]`); it is
   * no tensor (free it with `free`). On webgl2 the kernel reads its texture arguments through
   * f32 index arithmetic (`fastReads`, backend/reads.ts).
   */
  launch(
    source: string,
    args: readonly Stored[],
    argSizes: readonly number[],
    outSize: number,
    onCpu = false,
    components: 1 | 4 = 1,
    packed = false,
  ): Stored {
    const reads = this.readsInF32 && !onCpu ? fastReads(source, args) : { source, natives: [] };
    const kernel = this.cache.kernel(
      reads.source,
      outSize / components,
      argSizes,
      onCpu,
      reads.natives,
    );
    this.stats.launches++;
    if (this.isAsync) {
      return this.queue.enqueue(async () => {
        const values = await Promise.all(args);
        const out = asBufferHandle(await kernel(...(values as Parameters<typeof kernel>)));
        return components === 4 ? flattenVec4(out, outSize) : out;
      });
    }
    const out = kernel(...args) as Stored;
    return components === 4 && !packed ? flattenVec4(out, outSize) : out;
  }

  /**
   * @internal The single buffer of a tensor (with its length), or null when it is stored in
   * pieces (over the index limit).
   */
  bufferOf(info: TensorInfo): { value: Stored; length: number } | null {
    const entry = this.store.get(info.dataId);
    return entry.value === null ? null : { value: entry.value, length: entry.length };
  }

  /** @internal Stores a buffer the backend launched as a new tensor of `shape`. */
  adoptResult(value: Stored, shape: Shape, dtype: DType = 'float32'): TensorInfo {
    return { dataId: this.store.adopt(value, dtype, size(shape)), shape, dtype };
  }

  /** @internal Counts a block copied out of stored pieces (`stats.copies`). */
  countCopy(): void {
    this.stats.copies++;
  }

  /**
   * Elements `[start, start + length)` of a tensor as a tensor of `shape` (of that many
   * elements), for the split paths. A range that is one whole buffer (or, on webasm, any range
   * of a host array) is a view that shares the buffer; otherwise the range is copied by one
   * kernel. Dispose the result like any tensor (a view frees nothing).
   */
  range(info: TensorInfo, start: number, length: number, shape: Shape): TensorInfo {
    return rangeOf(this, info, start, length, shape);
  }

  /**
   * The tensor whose elements are those of `parts` one after the other, as `shape`; takes the
   * parts' buffers over (the parts are gone afterwards). See backend/pieces.ts.
   */
  assemble(parts: readonly TensorInfo[], shape: Shape): TensorInfo {
    return assembleParts(this, parts, shape);
  }
}

/** gpu.js's types know no webgpu: its kernels there resolve to a buffer handle. */
function asBufferHandle(out: unknown): GpuBufferHandle {
  return out as GpuBufferHandle;
}
