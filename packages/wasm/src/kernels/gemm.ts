import type { WasmBackend } from '../backend.js';

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
  const threads = m * n * k < PARALLEL_MIN_WORK ? 1 : Math.min(backend.pool.size, Math.ceil(n / 8));
  const per = Math.ceil(n / threads / 8) * 8;
  const args: number[][] = [];
  for (let t = 0; t < threads; t++) {
    const n0 = t * per;
    const n1 = Math.min(n, n0 + per);
    if (n0 >= n1) break;
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
