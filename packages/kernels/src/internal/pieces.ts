/**
 * How a tensor over the index limit is cut into stored pieces (GL modes and webgpu; see
 * `GpuBackend.write`).
 */
import type { Shape } from '@gpunet/tensor';
import { size } from './index-math.js';

/**
 * The elements per piece of a tensor of `shape` stored in pieces of at most `limit` elements:
 * a whole number of rows of its longest trailing block that fits (`shape.slice(d)` for the
 * smallest such d), so that blocks of those rows, which the split kernels take, are whole
 * pieces and pass without a copy. A batched matmul operand `[1, 4096, 9216]` (fc6's weight in a
 * BatchMatMul) is cut between rows of 9216, not at `limit`, which cuts through rows. When not
 * even the last dim fits, `limit`.
 */
export function pieceLength(shape: Shape, limit: number): number {
  for (let d = 0; d < shape.length; d++) {
    const row = size(shape.slice(d));
    if (row > 0 && row <= limit) return row * rowsPerBlock(limit, row);
  }
  return limit;
}

/**
 * The rows of `row` elements in one piece or split launch of at most `limit` elements: as many
 * as fit, rounded down to a multiple of 4 when at least 4 fit, so that a block of a linear
 * layer's weight rows is a matmul's N that webgl2's packed matmul takes (four columns per
 * output texel). At least 1; unbounded for rows of no elements.
 */
export function rowsPerBlock(limit: number, row: number): number {
  const rows = Math.floor(limit / row);
  if (!Number.isFinite(rows)) return rows;
  return rows >= 4 ? rows - (rows % 4) : Math.max(1, rows);
}
