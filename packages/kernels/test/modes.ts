/**
 * What the kernels' conformance runs (Node: src/conformance.test.ts; browser: test/browser) add
 * to `@gpunet/tensor/conformance`: the tolerance of each gpu.js mode and `startMode`, which
 * fails loudly when a mode cannot run here.
 */
import { getBackend, setBackend } from '@gpunet/tensor';
import type { Tolerance } from '@gpunet/tensor/testing';
// Through the package entry, which registers the backends.
import { GpuBackend, type GpuMode } from '../src/index.js';

/**
 * Tolerances per mode, passed to `checkConformance` (atol is scaled by the largest magnitude of
 * the compared array). Every mode computes in fp32; the reference accumulates in float64, so
 * the error grows with the number of terms in a sum (K of a matmul, taps of a conv: up to 9216
 * for fc6) as about sqrt(K) ulps. cpu and webasm are IEEE f32 with a different summation order
 * (4 accumulators): the suite's float32 default, 1e-4, covers that. The GL modes and webgpu run
 * transcendental functions (exp, log, pow) with GPU-grade accuracy, about 1e-6 relative on
 * SwiftShader and looser on real GPUs, and read textures through float coordinates: rtol 1e-3.
 * On webgpu and webgl2 the blocked kernels (four outputs per thread: Conv2d, its data and
 * filter gradients, BatchMatMul) sum the same fp32 products in another order over the taps, a
 * few ulps per term: the same 1e-3 covers them (docs/kernels.md, "Blocked kernels"); webgl2's
 * packed convolutions (packed inputs, four floats per texel fetch: the forward pass at any
 * stride, conv1's stride 4 included; the gradients at stride 1) sum the same products plus
 * exact zeros for the taps in the padding, under the same tolerance.
 */
export const TOLERANCE: Record<GpuMode, Required<Tolerance>> = {
  cpu: { atol: 1e-4, rtol: 1e-4 },
  webasm: { atol: 1e-4, rtol: 1e-4 },
  headlessgl: { atol: 1e-3, rtol: 1e-3 },
  webgl: { atol: 1e-3, rtol: 1e-3 },
  webgl2: { atol: 1e-3, rtol: 1e-3 },
  webgpu: { atol: 1e-3, rtol: 1e-3 },
};

/** Makes `mode` current, or throws why it cannot run: a mode that cannot start fails the run. */
export async function startMode(mode: GpuMode): Promise<void> {
  await setBackend(mode);
  if (!(getBackend() instanceof GpuBackend))
    throw new Error(`setBackend('${mode}') did not give a gpu.js backend`);
}
