/**
 * Where a GpuBackend keeps tensors: one entry per DataId, holding a buffer (or, over the index
 * limit, consecutive pieces), its length and dtype, and the byte count of them all.
 */
import type { DataId, DType } from '@gpunet/tensor';
import { Texture } from 'gpu.js';
import { size } from '../internal/index-math.js';

/** The parts of gpu.js's WebGPU buffer handle (`WebGPUBufferResult`) the backend uses. */
export interface GpuBufferHandle {
  toArray(): Promise<Float32Array>;
  delete(): void;
}

/**
 * What a buffer holds: a typed array (cpu, webasm), a gpu.js texture (GL modes), or the Promise
 * of a WebGPU buffer handle (webgpu; empty tensors there are host arrays).
 */
export type Stored = Float32Array | Texture | Promise<GpuBufferHandle>;

/** One contiguous piece of a tensor stored in several buffers (see `GpuBackend.indexLimit`). */
export interface Piece {
  value: Stored;
  length: number;
}

/** A stored tensor: its one buffer, or its pieces. */
export interface StoredTensor {
  /** The buffer; null when the tensor is stored in `pieces`. */
  value: Stored | null;
  /** A tensor over `indexLimit` elements on the GL modes and webgpu: its consecutive pieces. */
  pieces: Piece[] | null;
  length: number;
  dtype: DType;
  /** A view of another tensor's buffer (made while splitting a kernel): never frees it. */
  isView: boolean;
}

/** The tensors of one backend by DataId, and the bytes their buffers hold. */
export class TensorStore {
  private readonly entries = new Map<DataId, StoredTensor>();
  private bytes = 0;

  constructor(private readonly owner: string) {}

  /** The stored tensor of `dataId`, or an error naming the backend. */
  get(dataId: DataId): StoredTensor {
    const entry = this.entries.get(dataId);
    if (!entry) throw new Error(`@gpunet/kernels (${this.owner}): unknown or disposed buffer`);
    return entry;
  }

  /** The stored tensor of `dataId`, or undefined. */
  find(dataId: DataId): StoredTensor | undefined {
    return this.entries.get(dataId);
  }

  /** Stores one buffer as a new tensor (of `knownLength` elements, or the buffer's own). */
  adopt(value: Stored, dtype: DType, knownLength?: number): DataId {
    const length =
      knownLength ??
      (value instanceof Texture
        ? size((value as Texture & { output: number[] }).output)
        : (value as Float32Array).length);
    return this.add({ value, pieces: null, length, dtype, isView: false });
  }

  /** Stores consecutive pieces as one new tensor. */
  adoptPieces(pieces: Piece[], dtype: DType): DataId {
    const length = pieces.reduce((n, p) => n + p.length, 0);
    return this.add({ value: null, pieces, length, dtype, isView: false });
  }

  /** Stores a view of a buffer another tensor owns (counted in no bytes, never freed). */
  addView(value: Stored, length: number, dtype: DType): DataId {
    return this.add({ value, pieces: null, length, dtype, isView: true });
  }

  /** Forgets a tensor (its buffers are the caller's to free or hand on); returns it. */
  remove(dataId: DataId): StoredTensor | undefined {
    const entry = this.entries.get(dataId);
    if (!entry) return undefined;
    this.entries.delete(dataId);
    if (!entry.isView) this.bytes -= entry.length * 4;
    return entry;
  }

  /** Every DataId stored. */
  ids(): DataId[] {
    return [...this.entries.keys()];
  }

  get count(): number {
    return this.entries.size;
  }

  get numBytes(): number {
    return this.bytes;
  }

  private add(entry: StoredTensor): DataId {
    const dataId = {};
    this.entries.set(dataId, entry);
    if (!entry.isView) this.bytes += entry.length * 4;
    return dataId;
  }
}

/** The pieces of a stored tensor: its one buffer, or the pieces of a split tensor. */
export function piecesOf(entry: StoredTensor): Piece[] {
  return entry.pieces ?? [{ value: entry.value as Stored, length: entry.length }];
}
