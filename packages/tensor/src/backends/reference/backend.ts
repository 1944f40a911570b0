import type { Backend, DataId, TensorInfo } from '../../backend.js';
import type { DType, Shape, TypedArray } from '../../types.js';

/**
 * A backend whose buffers the host can address as typed arrays (the reference backend, the Wasm
 * heap). The reference kernels run on any of them, so such a backend can register them for the
 * kernels it does not speed up itself.
 */
export interface HostBackend extends Backend {
  /** A view of the buffer itself (no copy), valid until the backend allocates again. */
  values(dataId: DataId): TypedArray;
  /** Stores a kernel's computed output (float64 results are rounded to the dtype). */
  output(values: TypedArray | Float64Array, shape: Shape, dtype?: DType): TensorInfo;
}

/**
 * The reference backend's storage: typed arrays in host memory. Its kernels (beside this file)
 * are plain loops written to be read, accumulating in float64; every other backend is tested
 * against them.
 */
export class ReferenceBackend implements HostBackend {
  readonly name = 'reference';
  private readonly store = new Map<DataId, TypedArray>();
  private bytes = 0;

  write(values: TypedArray, _shape: Shape, _dtype: DType): DataId {
    return this.adopt(values.slice());
  }

  async read(dataId: DataId): Promise<TypedArray> {
    return this.readSync(dataId);
  }

  readSync(dataId: DataId): TypedArray {
    return this.values(dataId).slice();
  }

  disposeData(dataId: DataId): void {
    const values = this.store.get(dataId);
    if (!values) return;
    this.bytes -= values.byteLength;
    this.store.delete(dataId);
  }

  numBytes(): number {
    return this.bytes;
  }

  /** The stored array itself (no copy), for kernels. */
  values(dataId: DataId): TypedArray {
    const values = this.store.get(dataId);
    if (!values) throw new Error('reference backend: unknown or disposed buffer');
    return values;
  }

  /** Stores a kernel's freshly computed output without copying it. */
  output(values: TypedArray | Float64Array, shape: Shape, dtype: DType = 'float32'): TensorInfo {
    const typed =
      values instanceof Float64Array
        ? dtype === 'int32'
          ? Int32Array.from(values)
          : Float32Array.from(values)
        : values;
    return { dataId: this.adopt(typed), shape, dtype };
  }

  private adopt(values: TypedArray): DataId {
    const dataId = {};
    this.store.set(dataId, values);
    this.bytes += values.byteLength;
    return dataId;
  }
}

/** @internal The host-memory backend behind a reference kernel call. */
export function asReference(backend: Backend): HostBackend {
  const host = backend as Partial<HostBackend>;
  if (typeof host.values !== 'function' || typeof host.output !== 'function') {
    throw new Error(
      `internal: backend '${backend.name}' does not expose host memory (values/output)`,
    );
  }
  return backend as HostBackend;
}
