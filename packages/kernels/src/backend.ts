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
 */
import type { Backend, DataId, DType, Shape, TensorInfo, TypedArray } from '@gpunet/tensor';
import { GPU, type IKernelRunShortcut, Texture } from 'gpu.js';
import { size } from './internal/index-math.js';
import { type GpuMode, probeMode } from './modes.js';

/** The parts of gpu.js's WebGPU buffer handle (`WebGPUBufferResult`) the backend uses. */
interface GpuBufferHandle {
  toArray(): Promise<Float32Array>;
  delete(): void;
}

/**
 * What a buffer holds: a typed array (cpu, webasm), a gpu.js texture (GL modes), or the Promise
 * of a WebGPU buffer handle (webgpu).
 */
type Stored = Float32Array | Texture | Promise<GpuBufferHandle>;

interface Record_ {
  value: Stored;
  length: number;
  dtype: DType;
}

/**
 * The largest tensor (in elements) whose flat indices the generated kernels compute exactly in
 * f32 arithmetic: webasm and the GL modes compute indices as f32, and `idiv` adds one half
 * before dividing, so indices must stay below 2^23 (see internal/index-math.ts). The cpu mode
 * computes in JavaScript doubles and has no such limit.
 */
export const EXACT_INDEX_LIMIT = 2 ** 23;

/** Counters the tests and benchmarks read. */
export interface GpuBackendStats {
  /** Kernels compiled so far; a training step on fixed shapes compiles none after its first run. */
  compiles: number;
  /** Kernel launches so far. */
  launches: number;
  /** Launches on webasm that ran as cpu-mode kernels because a tensor was over EXACT_INDEX_LIMIT. */
  fallbacks: number;
}

/** The gpu.js backend of one mode. Kernels are registered under the mode's name. */
export class GpuBackend implements Backend {
  readonly name: GpuMode;
  readonly gpu: GPU;
  /** True on the modes whose kernels output textures (data lives on the device). */
  readonly isTextureMode: boolean;
  readonly stats: GpuBackendStats = { compiles: 0, launches: 0, fallbacks: 0 };
  private cpuGpu: GPU | null = null;
  private readonly store = new Map<DataId, Record_>();
  private readonly kernels = new Map<string, IKernelRunShortcut>();
  private bytes = 0;
  /** webgpu: launches, uploads and frees, in program order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** True on webgpu, whose kernels return Promises. */
  readonly isAsync: boolean;

  /** Makes the backend of `mode`, or throws saying why the mode cannot run here. */
  constructor(mode: GpuMode) {
    const support = probeMode(mode);
    if (!support.isSupported)
      throw new Error(`@gpunet/kernels: mode '${mode}' cannot run here: ${support.reason}`);
    this.name = mode;
    this.isTextureMode = mode === 'headlessgl' || mode === 'webgl' || mode === 'webgl2';
    this.isAsync = mode === 'webgpu';
    this.gpu = new GPU({ mode });
  }

  /** Runs `task` after everything queued before it (webgpu); its failure does not stop the queue. */
  private enqueue<T>(task: () => T | Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.catch(() => undefined);
    return result;
  }

  write(values: TypedArray, _shape: Shape, dtype: DType): DataId {
    // int32 tensors are stored as float32: every gpu.js mode computes in f32, and int32 values
    // in gpunet are labels and indices, exact below 2^24.
    const host = values instanceof Float32Array ? values.slice() : Float32Array.from(values);
    if (this.isAsync && host.length > 0) {
      const upload = this.kernel('function(a) { return a[this.thread.x]; }', host.length, [
        host.length,
      ]);
      this.stats.launches++;
      const pending = this.enqueue(() => upload(host) as unknown as Promise<GpuBufferHandle>);
      return this.adopt(pending, dtype, host.length);
    }
    if (!this.isTextureMode || host.length === 0) return this.adopt(host, dtype);
    // Upload once, so that every kernel argument on a GL mode is a texture: a compiled gpu.js
    // kernel is specialised to its argument types, and mixing arrays and textures recompiles.
    const upload = this.kernel('function(a) { return a[this.thread.x]; }', host.length, [
      host.length,
    ]);
    this.stats.launches++;
    return this.adopt(upload(host) as Texture, dtype);
  }

  async read(dataId: DataId): Promise<TypedArray> {
    const record = this.record(dataId);
    if (record.value instanceof Promise) {
      const handle = await record.value;
      const values = await handle.toArray();
      const head = values.subarray(0, record.length);
      return record.dtype === 'int32' ? Int32Array.from(head) : Float32Array.from(head);
    }
    return this.readSync(dataId);
  }

  /** Reads a buffer back (GL modes: a texture readback) as a fresh array of its dtype. */
  readSync(dataId: DataId): TypedArray {
    const record = this.record(dataId);
    if (record.value instanceof Promise) {
      throw new Error(
        `@gpunet/kernels (${this.name}): reads from WebGPU are asynchronous: use \`await tensor.data()\` (or \`array()\`), not dataSync(), item() or a synchronous read`,
      );
    }
    const values =
      record.value instanceof Texture ? (record.value.toArray() as Float32Array) : record.value;
    const head = values.subarray(0, record.length);
    // Int32Array.from truncates toward zero; int32 results are exact integers already.
    return record.dtype === 'int32' ? Int32Array.from(head) : Float32Array.from(head);
  }

  disposeData(dataId: DataId): void {
    const record = this.store.get(dataId);
    if (!record) return;
    if (record.value instanceof Texture) record.value.delete();
    else if (record.value instanceof Promise) {
      const pending = record.value;
      // After every launch queued so far, which may still bind this buffer.
      void this.enqueue(async () => (await pending.catch(() => null))?.delete());
    }
    this.bytes -= record.length * 4;
    this.store.delete(dataId);
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

  /** Number of live buffers, for leak tests. */
  numBuffers(): number {
    return this.store.size;
  }

  /**
   * Runs a generated kernel over a 1-D output of `outSize` elements with the given tensors as
   * arguments, and returns the output's info. The compiled kernel is cached by its source and
   * the argument and output sizes, so the same op on the same shapes compiles once.
   */
  run(
    source: string,
    inputs: readonly TensorInfo[],
    shape: Shape,
    dtype: DType = 'float32',
  ): TensorInfo {
    const outSize = size(shape);
    if (outSize === 0) return { dataId: this.adopt(new Float32Array(0), dtype), shape, dtype };
    const args = inputs.map((t) => this.record(t.dataId));
    const largest = Math.max(outSize, ...args.map((a) => a.length));
    let onCpu = false;
    if (this.name !== 'cpu' && largest > EXACT_INDEX_LIMIT) {
      if (this.isTextureMode || this.isAsync) {
        throw new Error(
          `@gpunet/kernels (${this.name}): a tensor of ${largest} elements is over the ${EXACT_INDEX_LIMIT}-element ` +
            'limit of exact f32 index arithmetic on the GL modes and webgpu (splitting such kernels is not implemented yet); ' +
            'use a smaller batch, or the cpu or webasm mode for this layer',
        );
      }
      // webasm holds host arrays, so the same generated kernel can run in cpu mode (JavaScript
      // doubles, exact indices) on them: slower, but correct.
      onCpu = true;
      this.stats.fallbacks++;
    }
    const kernel = this.kernel(
      source,
      outSize,
      args.map((a) => a.length),
      onCpu,
    );
    this.stats.launches++;
    if (this.isAsync) {
      const pending = this.enqueue(async () => {
        const values = await Promise.all(args.map((a) => a.value));
        return (await kernel(
          ...(values as unknown as Parameters<typeof kernel>),
        )) as unknown as GpuBufferHandle;
      });
      return { dataId: this.adopt(pending, dtype, outSize), shape, dtype };
    }
    const out = kernel(...args.map((a) => a.value)) as Stored;
    return { dataId: this.adopt(out, dtype), shape, dtype };
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
      kernel = gpu.createKernel(source, {
        output: [outSize],
        pipeline: true,
        // A fresh output texture per call: without it a GL kernel overwrites its last output.
        immutable: true,
        precision: 'single',
        tactic: 'precision',
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
    this.store.set(dataId, { value, length, dtype });
    this.bytes += length * 4;
    return dataId;
  }
}
