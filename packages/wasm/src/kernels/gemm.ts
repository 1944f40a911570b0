import type { WasmBackend } from '../backend.js';
import { threadRanges } from './ranges.js';

/** A GEMM operand: byte offset and element strides (row, column) of the matrix as read. */
export interface Operand {
  offset: number;
  row: number;
  col: number;
}

/** Below this many multiply-adds a GEMM runs on the calling thread alone. */
const PARALLEL_MIN_WORK = 1 << 18;

/**
 * C (m x n, row stride ldc) = A (m x k) B (k x n), or C += A B with `accumulate`, split by
 * columns of C (multiples of 8, the micro-kernel's width) over the backend's threads.
 */
export function gemm(
  backend: WasmBackend,
  m: number,
  n: number,
  k: number,
  a: Operand,
  b: Operand,
  c: number,
  ldc: number,
  accumulate: boolean,
): void {
  const threads = m * n * k < PARALLEL_MIN_WORK ? 1 : backend.pool.size;
  const args: number[][] = [];
  for (const [t, [n0, n1]] of threadRanges(n, threads, { multiple: 8 }).entries()) {
    args.push([
      m,
      n,
      k,
      a.offset,
      a.row,
      a.col,
      b.offset,
      b.row,
      b.col,
      c,
      ldc,
      accumulate ? 1 : 0,
      n0,
      n1,
      backend.scratch[t],
    ]);
  }
  backend.pool.run('sgemm', args);
}
