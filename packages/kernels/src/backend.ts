import type { Backend, DataId, DType, Shape, TensorInfo, TypedArray } from '@gpunet/tensor';
import gpujs from 'gpu.js';
import { type GpuMode, modeAvailability } from './modes.js';

interface Stored {
  values: Float32Array;
  dtype: DType;
}

/**
 * gpu.js's webasm mode indexes arrays with float32 numbers, exact only up to 2^24: a larger
 * array is read at wrong places (measured: fc6's 37.7M-element weight gave wrong products).
 */
export const WEBASM_MAX_ELEMENTS = 2 ** 24;

/** A compiled gpu.js kernel: call it with its array arguments. */
type CompiledKernel = (...args: Float32Array[]) => Float32Array;

/** What a kernel file asks the backend to run. */
export interface KernelSpec {
  /** Name and static parameters: the compile cache key starts with it. */
  name: string;
  /** The kernel's parameter names, in the order of `inputs`. */
  params: string[];
  /** The body of a gpu.js kernel function; `this.thread.x` is the flat output index. */
  body: string;
  constants: Record<string, number>;
  inputs: readonly TensorInfo[];
  shape: Shape;
  dtype?: DType;
}

/**
 * The gpu.js backend in one mode. Every kernel is a gpu.js kernel over flat arrays; data lives in
 * Float32Arrays (int32 tensors too: gpu.js computes in float32, exact for integers below 2^24).
 * Compiled kernels are cached by name, static parameters and input sizes, so a training step on
 * fixed shapes compiles nothing after its first run (`compiles` counts them).
 */
export class GpuJsBackend implements Backend {
  readonly name: GpuMode;
  /** Kernels compiled so far. */
  compiles = 0;
  private readonly gpu: InstanceType<typeof gpujs.GPU>;
  private readonly store = new Map<DataId, Stored>();
  private readonly cache = new Map<string, CompiledKernel>();

  constructor(mode: GpuMode) {
    const availability = modeAvailability(mode);
    if (!availability.available)
      throw new Error(`@gpunet/kernels: mode '${mode}' cannot run here: ${availability.reason}`);
    this.name = mode;
    this.gpu = new gpujs.GPU({ mode });
  }

  write(values: TypedArray, _shape: Shape, dtype: DType): DataId {
    const dataId = {};
    this.store.set(dataId, { values: Float32Array.from(values), dtype });
    return dataId;
  }

  async read(dataId: DataId): Promise<TypedArray> {
    return this.readSync(dataId);
  }

  readSync(dataId: DataId): TypedArray {
    const { values, dtype } = this.stored(dataId);
    return dtype === 'int32' ? Int32Array.from(values) : values.slice();
  }

  disposeData(dataId: DataId): void {
    this.store.delete(dataId);
  }

  numBytes(): number {
    let bytes = 0;
    for (const { values } of this.store.values()) bytes += values.byteLength;
    return bytes;
  }

  dispose(): void {
    this.gpu.destroy();
  }

  /** Runs (compiling on first use) the kernel `spec` describes and stores its output. */
  run(spec: KernelSpec): TensorInfo {
    const size = spec.shape.reduce((a: number, b: number) => a * b, 1);
    const args = spec.inputs.map((t) => this.stored(t.dataId).values);
    const largest = Math.max(size, ...args.map((a) => a.length));
    if (this.name === 'webasm' && largest > WEBASM_MAX_ELEMENTS) {
      throw new RangeError(
        `${spec.name} on webasm: an array of ${largest} elements is above gpu.js webasm's float32 indexing limit ` +
          `(${WEBASM_MAX_ELEMENTS}); split the work or use another backend`,
      );
    }
    let values: Float32Array;
    if (size === 0) {
      values = new Float32Array(0);
    } else {
      const key = `${spec.name}|${JSON.stringify(spec.constants)}|${size}|${args.map((a) => a.length).join(',')}`;
      let kernel = this.cache.get(key);
      if (!kernel) {
        const source = `function (${spec.params.join(', ')}) {\n${spec.body}\n}`;
        // Loops run to constants; loopMaxIterations bounds the ones gpu.js cannot see the end of
        // (a setting gpu.js reads but its typings omit).
        const settings = { output: [size], constants: spec.constants, loopMaxIterations: 1 << 24 };
        kernel = this.gpu.createKernel(
          source,
          settings as Parameters<typeof this.gpu.createKernel>[1],
        ) as unknown as CompiledKernel;
        this.compiles++;
        this.cache.set(key, kernel);
      }
      // gpu.js refuses empty argument arrays; a zero-size input is never read anyway.
      const result = kernel(...args.map((a) => (a.length === 0 ? new Float32Array(1) : a)));
      values =
        result instanceof Float32Array ? result : Float32Array.from(result as ArrayLike<number>);
    }
    const dataId = {};
    const dtype = spec.dtype ?? 'float32';
    this.store.set(dataId, { values, dtype });
    return { dataId, shape: spec.shape, dtype };
  }

  /** The stored array itself (host modes keep data in host memory). */
  values(dataId: DataId): Float32Array {
    return this.stored(dataId).values;
  }

  /** Stores host values as a new buffer without copying them. */
  adopt(values: Float32Array, shape: Shape, dtype: DType = 'float32'): TensorInfo {
    const dataId = {};
    this.store.set(dataId, { values, dtype });
    return { dataId, shape, dtype };
  }

  private stored(dataId: DataId): Stored {
    const stored = this.store.get(dataId);
    if (!stored) throw new Error(`${this.name} backend: unknown or disposed buffer`);
    return stored;
  }
}

/** The gpu.js backend behind a kernel call. */
export function asGpu(backend: Backend): GpuJsBackend {
  if (!(backend instanceof GpuJsBackend))
    throw new Error(`internal: expected a gpu.js backend, got '${backend.name}'`);
  return backend;
}
