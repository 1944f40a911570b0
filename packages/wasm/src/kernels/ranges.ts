/**
 * Splits `[0, total)` into contiguous ranges, one per thread: at most `threads` of them, none
 * shorter than `minPerThread` (fewer ranges when there is little work), each a multiple of
 * `multiple` long but the last. Range `t` goes to thread `t` (its scratch is `scratch[t]`). The
 * one place the wasm kernels share work among threads (images, planes, GEMM columns).
 */
export function threadRanges(
  total: number,
  threads: number,
  { minPerThread = 1, multiple = 1 }: { minPerThread?: number; multiple?: number } = {},
): [number, number][] {
  const count = Math.max(1, Math.min(threads, Math.floor(total / minPerThread)));
  const per = Math.ceil(total / count / multiple) * multiple;
  const out: [number, number][] = [];
  for (let start = 0; start < total; start += per) out.push([start, Math.min(total, start + per)]);
  return out;
}
