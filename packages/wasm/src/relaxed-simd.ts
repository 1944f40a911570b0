/**
 * `import '@gpunet/wasm/relaxed-simd'` before `@gpunet/wasm` lets Node 20 run the backend's
 * fused multiply-add build.
 *
 * The wasm backend picks its relaxed-SIMD build (`f32x4.relaxed_madd`, 1.2-1.4x faster GEMMs on
 * CPUs with FMA) where the engine validates it: Chrome 114+, Firefox 120+, Node 22+. Node 20's V8
 * (11.3) has relaxed SIMD behind `--experimental-wasm-relaxed-simd`, which Node does not accept in
 * NODE_OPTIONS. This module sets that flag at run time, which works only before the backend
 * compiles its module: import it first (the `gpunet` CLI does). Elsewhere it does nothing; with
 * `GPUNET_WASM_RELAXED_SIMD=0` it does nothing either (the backend then loads the plain build).
 */
interface NodeLike {
  versions?: { v8?: string };
  env?: Record<string, string | undefined>;
  getBuiltinModule?: (name: string) => unknown;
}

const node = (globalThis as { process?: NodeLike }).process;
const [major = 0, minor = 0] = (node?.versions?.v8 ?? '').split('.').map(Number);
/** V8 before 11.4 hides relaxed SIMD behind a flag. */
const flagged = major > 0 && (major < 11 || (major === 11 && minor < 4));
if (flagged && node?.env?.GPUNET_WASM_RELAXED_SIMD !== '0') {
  const v8 = node?.getBuiltinModule?.('node:v8') as
    | { setFlagsFromString(flags: string): void }
    | undefined;
  v8?.setFlagsFromString('--experimental-wasm-relaxed-simd');
}
