/**
 * @gpunet/kernels: the gpu.js backend. Importing it registers one backend per gpu.js mode this
 * package implements (today 'webasm' and 'cpu'); `resolveAuto()` names the best mode that runs
 * here and why better ones were passed over.
 */
import { type KernelConfig, registerBackend, registerKernel } from '@gpunet/tensor';
import { GpuJsBackend } from './backend.js';
import {
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  conv2dKernel,
} from './kernels/conv.js';
import { binaryKernels, castKernel, oneHotKernel, unaryKernels } from './kernels/elementwise.js';
import { lrnGradKernel, lrnKernel } from './kernels/lrn.js';
import { batchMatMulKernel } from './kernels/matmul.js';
import {
  adaptiveAvgPool2dGradKernel,
  adaptiveAvgPool2dKernel,
  avgPool2dGradKernel,
  avgPool2dKernel,
  maxPool2dGradKernel,
  maxPool2dKernel,
} from './kernels/pool.js';
import { argMaxKernel, reduceKernels } from './kernels/reduce.js';
import {
  broadcastToKernel,
  concatKernel,
  padKernel,
  sliceKernel,
  transposeKernel,
} from './kernels/transform.js';
import type { GpuKernel } from './kernels/types.js';
import { GPU_MODES, IMPLEMENTED_MODES } from './modes.js';

export { GpuJsBackend, type KernelSpec } from './backend.js';
export {
  GPU_MODES,
  type GpuMode,
  IMPLEMENTED_MODES,
  type ModeAvailability,
  modeAvailability,
  resolveAuto,
} from './modes.js';

/** Every kernel of the registry, as gpu.js kernels. */
export const gpuKernels: GpuKernel[] = [
  ...unaryKernels,
  ...binaryKernels,
  ...reduceKernels,
  argMaxKernel,
  castKernel,
  oneHotKernel,
  transposeKernel,
  sliceKernel,
  concatKernel,
  padKernel,
  broadcastToKernel,
  batchMatMulKernel,
  conv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
  maxPool2dKernel,
  maxPool2dGradKernel,
  avgPool2dKernel,
  avgPool2dGradKernel,
  adaptiveAvgPool2dKernel,
  adaptiveAvgPool2dGradKernel,
  lrnKernel,
  lrnGradKernel,
] as GpuKernel[];

/**
 * Registers the implemented modes as backends named after them ('webasm', 'cpu'), below the
 * reference backend's default priority so that importing this package changes nothing until a
 * backend is chosen with `setBackend`.
 */
export function registerGpuBackends(): void {
  for (const mode of GPU_MODES) {
    if (!IMPLEMENTED_MODES.includes(mode)) continue;
    for (const kernel of gpuKernels)
      registerKernel({ ...kernel, backendName: mode } as KernelConfig);
    registerBackend(mode, async () => new GpuJsBackend(mode), -1);
  }
}

registerGpuBackends();
