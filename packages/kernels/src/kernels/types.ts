import type { KernelAttrs, KernelFunc, KernelName } from '@gpunet/tensor';

/** A kernel of this package, registered under every implemented mode's name. */
export interface GpuKernel<K extends KernelName = KernelName> {
  kernelName: K;
  kernelFunc: KernelFunc<KernelAttrs[K]>;
}
