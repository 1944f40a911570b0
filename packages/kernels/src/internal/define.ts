/**
 * How a kernel is declared once and registered for every mode.
 */
import type { Backend, KernelAttrs, KernelName, TensorInfo } from '@gpunet/tensor';
import { GpuBackend } from '../backend.js';

/**
 * A mode-independent kernel: the same function serves every gpu.js mode. `kernelFunc` is a
 * method (as in @gpunet/tensor's `KernelConfig`), so a `GpuKernel<'Conv2d'>` or a family's
 * `GpuKernel<UnaryKernelName>` is a `GpuKernel`: lists of kernels need no cast.
 */
export interface GpuKernel<K extends KernelName = KernelName> {
  kernelName: K;
  kernelFunc(args: {
    inputs: readonly TensorInfo[];
    attrs: KernelAttrs[K];
    backend: GpuBackend;
  }): TensorInfo;
}

/** Declares a kernel (typed by its name's attrs). */
export function defineKernel<K extends KernelName>(
  kernelName: K,
  kernelFunc: GpuKernel<K>['kernelFunc'],
): GpuKernel<K> {
  return { kernelName, kernelFunc };
}

/** The backend as the gpu.js backend it must be. */
export function asGpu(backend: Backend): GpuBackend {
  if (!(backend instanceof GpuBackend)) {
    throw new Error(`internal: expected a gpu.js backend, got '${backend.name}'`);
  }
  return backend;
}
