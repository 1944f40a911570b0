import type { GpuKernel } from '../internal/define.js';
import { convKernels } from './conv.js';
import { binaryKernels, castKernel, reluGradKernel, unaryKernels } from './elementwise.js';
import { lrnKernels } from './lrn.js';
import { batchMatMulKernel } from './matmul.js';
import { poolKernels } from './pool.js';
import { argMaxKernel, oneHotKernel, reduceKernels } from './reduce.js';
import { transformKernels } from './transform.js';

/** Every kernel of the gpu.js backend, mode-independent. */
export const gpuKernels: GpuKernel[] = [
  ...unaryKernels,
  ...binaryKernels,
  reluGradKernel,
  castKernel,
  ...reduceKernels,
  argMaxKernel,
  oneHotKernel,
  ...transformKernels,
  batchMatMulKernel,
  ...convKernels,
  ...poolKernels,
  ...lrnKernels,
];
