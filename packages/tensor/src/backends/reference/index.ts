import { type KernelConfig, registerKernel } from '../../backend.js';
import { registerBackend } from '../../engine.js';
import { ReferenceBackend } from './backend.js';
import {
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  conv2dKernel,
  fusedConv2dKernel,
} from './conv.js';
import {
  binaryKernels,
  castKernel,
  oneHotKernel,
  unaryKernels,
  weightedSumKernel,
} from './elementwise.js';
import { lrnGradKernel, lrnKernel } from './lrn.js';
import { batchMatMulKernel } from './matmul.js';
import {
  adaptiveAvgPool2dGradKernel,
  adaptiveAvgPool2dKernel,
  avgPool2dGradKernel,
  avgPool2dKernel,
  maxPool2dGradKernel,
  maxPool2dKernel,
} from './pool.js';
import { argMaxKernel, reduceKernels } from './reduce.js';
import {
  broadcastToKernel,
  concatKernel,
  flipKernel,
  padKernel,
  sliceKernel,
  transposeKernel,
} from './transform.js';

export { type HostBackend, ReferenceBackend } from './backend.js';

/** Every kernel of the reference backend. */
export const referenceKernels: KernelConfig[] = [
  ...unaryKernels,
  ...binaryKernels,
  ...reduceKernels,
  argMaxKernel,
  castKernel,
  weightedSumKernel,
  oneHotKernel,
  transposeKernel,
  sliceKernel,
  concatKernel,
  padKernel,
  flipKernel,
  broadcastToKernel,
  batchMatMulKernel,
  conv2dKernel,
  fusedConv2dKernel,
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
];

/** Registers the reference backend (priority 0: any other registered backend is preferred by default). */
export function registerReferenceBackend(): void {
  for (const kernel of referenceKernels) registerKernel(kernel);
  registerBackend('reference', () => new ReferenceBackend(), 0);
}
