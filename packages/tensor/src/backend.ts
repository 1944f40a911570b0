/**
 * The boundary between the tensor front-end and the places where data lives.
 *
 * A backend stores data (host typed arrays, GPU textures, Wasm heap blocks) behind opaque
 * `DataId`s and implements kernels registered under its name. Kernels take and return
 * `TensorInfo`s synchronously, so a chain of ops never waits on the device; only `read` is
 * asynchronous, which is what lets an asynchronous backend (gpu.js WebGPU) sit behind it.
 */
import type { KernelAttrs, KernelName } from './kernel-names.js';
import type { DType, Shape, TypedArray } from './types.js';

/** An opaque handle to data held by a backend. Backends key their storage by its identity. */
export type DataId = object;

/** What a kernel sees of a tensor: where its data is, its shape and dtype. */
export interface TensorInfo {
  readonly dataId: DataId;
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Storage and readback; kernels are registered separately with `registerKernel`. */
export interface Backend {
  /** The name kernels are registered under. */
  readonly name: string;
  /** Copies host values (already of the right dtype and length) into a new buffer. */
  write(values: TypedArray, shape: Shape, dtype: DType): DataId;
  /** Reads a buffer back to the host, waiting for pending work. The result is a fresh copy. */
  read(dataId: DataId): Promise<TypedArray>;
  /** Synchronous readback, where the backend can do it (host-memory backends). */
  readSync?(dataId: DataId): TypedArray;
  /** Frees a buffer. Called exactly once, when the last tensor sharing it is disposed. */
  disposeData(dataId: DataId): void;
  /** Bytes this backend holds right now (device buffers included), if it can tell. */
  numBytes?(): number;
  /**
   * The most bytes this backend can ever hold, where that is a fixed limit (the wasm backend:
   * 4 GiB, all that wasm32 addresses). Trainers check their estimate against it before a step.
   */
  memoryLimit?(): number;
  /** Releases every resource the backend holds. */
  dispose?(): void;
}

/** A kernel's implementation: reads its inputs, writes a new output buffer, returns its info. */
export type KernelFunc<A = unknown> = (args: {
  inputs: readonly TensorInfo[];
  attrs: A;
  backend: Backend;
}) => TensorInfo;

/**
 * One kernel of one backend, as registered: `{ kernelName, backendName, kernelFunc }`.
 * `kernelFunc` is declared as a method, so a `KernelConfig<'Conv2d'>` (or a family's
 * `KernelConfig<UnaryKernelName>`) is a `KernelConfig`: a backend lists its kernels, each typed by
 * its own attributes, without a cast; the engine calls each with the attrs of its name.
 */
export interface KernelConfig<K extends KernelName = KernelName> {
  kernelName: K;
  backendName: string;
  kernelFunc(args: Parameters<KernelFunc<KernelAttrs[K]>>[0]): TensorInfo;
}

const kernels = new Map<string, KernelConfig>();
const key = (kernelName: string, backendName: string) => `${backendName}/${kernelName}`;

/** Registers (or replaces) a backend's implementation of a kernel. */
export function registerKernel<K extends KernelName>(config: KernelConfig<K>): void {
  kernels.set(key(config.kernelName, config.backendName), config);
}

/** The kernel a backend registered under this name, if any. */
export function getKernel<K extends KernelName>(
  kernelName: K,
  backendName: string,
): KernelConfig<K> | undefined {
  // Stored under its own kernelName (see `registerKernel`), so it is the config of K.
  return kernels.get(key(kernelName, backendName)) as KernelConfig<K> | undefined;
}

/** Names of the kernels a backend has registered, sorted. */
export function listKernels(backendName: string): KernelName[] {
  const prefix = `${backendName}/`;
  return [...kernels.keys()]
    .filter((k) => k.startsWith(prefix))
    .map((k) => k.slice(prefix.length) as KernelName)
    .sort();
}
