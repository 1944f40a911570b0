/**
 * Registration of the gpu.js backends with the @gpunet/tensor engine: one backend per mode,
 * plus `auto`, which resolves to the best mode that runs here.
 */
import {
  findBackend,
  type KernelConfig,
  type KernelName,
  registerBackend,
  registerKernel,
  type TensorInfo,
} from '@gpunet/tensor';
import { GpuBackend } from './backend.js';
import { type AutoChoice, chooseBackend, probeBackend } from './choose.js';
import { asGpu, type GpuKernel } from './internal/define.js';
import { gpuKernels } from './kernels/index.js';
import { GPU_MODES } from './modes.js';
import { runWithinIndexLimit } from './split.js';

const kernelsByName = new Map<KernelName, GpuKernel>(gpuKernels.map((k) => [k.kernelName, k]));

/** Runs a kernel, split into launches under the index limit where a tensor is over it. */
function dispatch(
  kernel: GpuKernel,
  inputs: readonly TensorInfo[],
  attrs: object,
  backend: GpuBackend,
): TensorInfo {
  return runWithinIndexLimit(kernel, inputs, attrs, backend, (name, others, otherAttrs) => {
    const other = kernelsByName.get(name);
    if (!other) throw new Error(`internal: no gpu.js kernel '${name}'`);
    return dispatch(other, others, otherAttrs, backend);
  });
}

/** The registry config of a kernel for one mode. */
function configFor(kernel: GpuKernel, mode: string): KernelConfig {
  return {
    kernelName: kernel.kernelName,
    backendName: mode,
    kernelFunc: ({ inputs, attrs, backend }) => dispatch(kernel, inputs, attrs, asGpu(backend)),
  };
}

let lastAutoChoice: AutoChoice | null = null;

/** What `auto` chose the last time it resolved, and why better modes were passed over. */
export function autoChoice(): AutoChoice | null {
  return lastAutoChoice;
}

/**
 * Registers the backends `webgpu`, `webgl2`, `webgl`, `headlessgl`, the test modes `webasm` and
 * `cpu`, and `auto` (see choose.ts).
 * Priorities are below the reference backend's, so importing this package does not change the
 * default backend: pick one with `await setBackend('auto')` (or a mode's name).
 */
export function registerGpuBackends(): void {
  for (const mode of GPU_MODES) {
    for (const kernel of gpuKernels) registerKernel(configFor(kernel, mode));
    registerBackend(
      mode,
      async () => {
        if (mode === 'webgpu') {
          // An adapter, not just the API (in Node: Dawn, set up here on first use).
          const probe = await probeBackend(mode);
          if (!probe.isSupported)
            throw new Error(`@gpunet/kernels: mode 'webgpu' cannot run here: ${probe.reason}`);
        }
        return new GpuBackend(mode);
      },
      -1,
    );
  }
  registerBackend(
    'auto',
    async () => {
      lastAutoChoice = await chooseBackend();
      return findBackend(lastAutoChoice.name);
    },
    -1,
  );
}
