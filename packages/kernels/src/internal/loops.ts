/**
 * How long a generated kernel may loop.
 *
 * Mesa's llvmpipe (the GL driver under headlessgl here, and lavapipe's Vulkan) stops every loop
 * of a shader invocation once the invocation has run 65,535 loop iterations in all, counted
 * over every loop of the shader together (`LP_MAX_TGSI_LOOP_ITERATIONS`, gallivm's loop
 * limiter, a guard against hangs). The shader then carries on with what it has: a sum over
 * 74,880 elements returns the sum of the first 65,536, without an error. So the kernels keep
 * each thread's loop iterations, over all its loops and their nesting, under `LOOP_LIMIT`:
 * long reductions run in passes (reduce.ts) and the kernels that sum over a dimension the user
 * chooses (a matmul's K, a filter gradient's batch) are split into launches (split.ts), and
 * `GpuBackend.run` refuses, with an error, a kernel whose loops would still run past it.
 */

/** Loop iterations a thread may run, over all its loops (llvmpipe's limit, one under 2^16). */
export const LOOP_LIMIT = 65_535;

/**
 * The loop iterations one thread of a generated kernel runs, at most: every loop the generators
 * write, `for (let v = A; v < B; v++)` or `v += S` with literal bounds, counted once per
 * iteration of the loops around it, plus one per loop entered (the exit test). Loops with other
 * bounds (none of the generators write them) are not counted.
 */
export function loopIterations(source: string): number {
  const token = /for \(let (\w+) = (-?\d+); \1 < (-?\d+); \1(?:\+\+| \+= (\d+))\) \{|[{}]/g;
  const scopes: number[] = [1];
  let total = 0;
  for (const match of source.matchAll(token)) {
    const around = scopes[scopes.length - 1];
    if (match[0] === '}') {
      if (scopes.length > 1) scopes.pop();
    } else if (match[0] === '{') {
      scopes.push(around);
    } else {
      const [from, to, step] = [Number(match[2]), Number(match[3]), Number(match[4] ?? 1)];
      const count = Math.max(0, Math.ceil((to - from) / step));
      total += around * (count + 1);
      scopes.push(around * count);
    }
  }
  return total;
}
