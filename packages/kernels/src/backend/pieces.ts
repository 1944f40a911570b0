/**
 * Tensors over the index limit on the GL modes and webgpu are stored as consecutive pieces
 * (textures or buffers of at most `indexLimit` elements). This module cuts ranges out of stored
 * tensors, lays tensors end to end, and merges pieces into one buffer, by small copy kernels;
 * on webasm, whose buffers are host arrays, ranges are zero-copy views.
 */
import type { DType, Shape, TensorInfo } from '@gpunet/tensor';
import { size } from '../internal/index-math.js';
import {
  type Piece,
  piecesOf,
  type Stored,
  type StoredTensor,
  type TensorStore,
} from './storage.js';

/**
 * The most tensors one kernel reads: WebGPU allows 8 storage buffers per shader stage, one of
 * them the output (WebGL guarantees 16 texture units). Merges and concats read in groups.
 */
export const MAX_KERNEL_INPUTS = 7;

/** What the piece operations need of their backend. */
export interface PieceHost {
  readonly store: TensorStore;
  /** The most elements one launch may index (the backend's current `indexLimit`). */
  readonly indexLimit: number;
  /** True on cpu and webasm, whose buffers are host arrays. */
  readonly holdsHostArrays: boolean;
  /** Launches generated kernel source over a 1-D output on stored buffers. */
  launch(
    source: string,
    args: readonly Stored[],
    argSizes: readonly number[],
    outSize: number,
  ): Stored;
  /** Frees a buffer (after the launches queued so far, on webgpu). */
  free(value: Stored): void;
  /** Counts a block copied out of pieces it straddled. */
  countCopy(): void;
}

/** One buffer holding `pieces` one after the other (at most `indexLimit` elements in all). */
export function mergePieces(host: PieceHost, pieces: readonly Piece[]): Stored {
  if (pieces.length === 1) return pieces[0].value;
  if (pieces.length > MAX_KERNEL_INPUTS) {
    const groups: Piece[] = [];
    for (let k = 0; k < pieces.length; k += MAX_KERNEL_INPUTS) {
      const group = pieces.slice(k, k + MAX_KERNEL_INPUTS);
      const value = mergePieces(host, group);
      groups.push({ value, length: group.reduce((n, p) => n + p.length, 0) });
    }
    const merged = mergePieces(host, groups);
    for (const group of groups) host.free(group.value);
    return merged;
  }
  const lines = ['const i = this.thread.x;'];
  let end = 0;
  pieces.forEach((piece, k) => {
    const read = `return v${k}[i - ${end}];`;
    end += piece.length;
    lines.push(k === pieces.length - 1 ? read : `if (i < ${end}) { ${read} }`);
  });
  return host.launch(
    `function(${pieces.map((_, k) => `v${k}`).join(', ')}) {\n${lines.join('\n')}\n}`,
    pieces.map((p) => p.value),
    pieces.map((p) => p.length),
    end,
  );
}

/**
 * The stored tensor with its pieces merged into one buffer when they fit in one launch (a
 * tensor stored in pieces under a lower `indexLimit`); one over the limit is left as it is.
 */
export function solidify(host: PieceHost, entry: StoredTensor): StoredTensor {
  if (entry.pieces && entry.length <= host.indexLimit) {
    const pieces = entry.pieces;
    entry.value = mergePieces(host, pieces);
    entry.pieces = null;
    for (const piece of pieces) host.free(piece.value);
  }
  return entry;
}

/**
 * Elements `[start, start + length)` of a tensor as a tensor of `shape`: a view when the range
 * is one whole buffer (or any range of a host array), else a copy by one kernel.
 */
export function rangeOf(
  host: PieceHost,
  info: TensorInfo,
  start: number,
  length: number,
  shape: Shape,
): TensorInfo {
  const entry = host.store.get(info.dataId);
  if (length > host.indexLimit) throw new Error(`internal: a range of ${length} elements`);
  const dtype = entry.dtype;
  const view = (value: Stored): TensorInfo => ({
    dataId: host.store.addView(value, length, dtype),
    shape,
    dtype,
  });
  if (entry.value instanceof Float32Array) return view(entry.value.subarray(start, start + length));
  const parts: Piece[] = [];
  const copies: Stored[] = [];
  let pieceStart = 0;
  for (const piece of piecesOf(entry)) {
    const from = Math.max(start, pieceStart);
    const to = Math.min(start + length, pieceStart + piece.length);
    if (from === pieceStart && to - from === piece.length) parts.push(piece);
    else if (from < to) {
      const source = `function(v) {\nreturn v[this.thread.x + ${from - pieceStart}];\n}`;
      const value = host.launch(source, [piece.value], [piece.length], to - from);
      parts.push({ value, length: to - from });
      copies.push(value);
    }
    pieceStart += piece.length;
  }
  if (parts.length === 1 && copies.length === 0) return view(parts[0].value);
  host.countCopy();
  const merged = mergePieces(host, parts);
  if (parts.length > 1) for (const copy of copies) host.free(copy);
  return { dataId: host.store.adopt(merged, dtype, length), shape, dtype };
}

/**
 * The tensor whose elements are those of `parts` one after the other, as `shape`; takes the
 * parts' buffers over (the parts are gone afterwards). On the GL modes and webgpu a result over
 * `indexLimit` elements keeps the parts as its pieces, a smaller one is merged into one buffer;
 * webasm concatenates host arrays.
 */
export function assembleParts(
  host: PieceHost,
  parts: readonly TensorInfo[],
  shape: Shape,
): TensorInfo {
  const dtype: DType = parts[0].dtype;
  const length = size(shape);
  if (parts.length === 1) return { dataId: parts[0].dataId, shape, dtype };
  const pieces = parts.flatMap((p) => piecesOf(host.store.get(p.dataId)));
  for (const p of parts) host.store.remove(p.dataId);
  if (host.holdsHostArrays) {
    const out = new Float32Array(length);
    let offset = 0;
    for (const piece of pieces) {
      out.set(piece.value as Float32Array, offset);
      offset += piece.length;
    }
    return { dataId: host.store.adopt(out, dtype, length), shape, dtype };
  }
  if (length > host.indexLimit)
    return { dataId: host.store.adoptPieces(pieces, dtype), shape, dtype };
  const merged = mergePieces(host, pieces);
  for (const piece of pieces) host.free(piece.value);
  return { dataId: host.store.adopt(merged, dtype, length), shape, dtype };
}
