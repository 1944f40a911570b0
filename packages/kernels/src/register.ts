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
import { GPU } from 'gpu.js';
import { GpuBackend } from './backend.js';
import { asGpu, type GpuKernel } from './internal/define.js';
import { gpuKernels } from './kernels/index.js';
import { type AutoChoice, chooseMode, GPU_MODES, probeMode } from './modes.js';
import { runKernel } from './split.js';

const kernelsByName = new Map<KernelName, GpuKernel>(gpuKernels.map((k) => [k.kernelName, k]));

/** Runs a kernel, split into launches under the index limit where a tensor is over it. */
function dispatch(
  kernel: GpuKernel,
  inputs: readonly TensorInfo[],
  attrs: object,
  backend: GpuBackend,
): TensorInfo {
  return runKernel(kernel, inputs, attrs, backend, (name, others, otherAttrs) => {
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
    kernelFunc: ({ inputs, attrs, backend }) =>
      dispatch(kernel, inputs, attrs as object, asGpu(backend)),
  } as KernelConfig;
}

let lastAutoChoice: AutoChoice | null = null;

/** What `auto` chose the last time it resolved, and why better modes were passed over. */
export function autoChoice(): AutoChoice | null {
  return lastAutoChoice;
}

/**
 * Registers the backends `cpu`, `webasm`, `webasm-threads`, `headlessgl`, `webgl`, `webgl2`,
 * `webgpu` and `auto`.
 * Priorities are below the reference backend's, so importing this package does not change the
 * default backend: pick one with `await setBackend('auto')` (or a mode's name).
 */
export function registerGpuBackends(): void {
  for (const mode of GPU_MODES) {
    for (const kernel of gpuKernels) registerKernel(configFor(kernel, mode));
    registerBackend(
      mode,
      async () => {
        if (mode === 'webgpu' && probeMode(mode).isSupported && !(await GPU.isWebGPUAvailable())) {
          throw new Error(
            "@gpunet/kernels: mode 'webgpu' cannot run here: navigator.gpu gives no adapter (no usable GPU, or WebGPU is disabled); use webgl2",
          );
        }
        return new GpuBackend(mode);
      },
      -1,
    );
  }
  // webasm on worker threads: asynchronous reads, so opt-in by name, never picked by `auto`.
  for (const kernel of gpuKernels) registerKernel(configFor(kernel, 'webasm-threads'));
  registerBackend('webasm-threads', async () => new GpuBackend('webasm', { threads: true }), -1);
  registerBackend(
    'auto',
    async () => {
      let choice = chooseMode();
      if (choice.mode === 'webgpu' && !(await GPU.isWebGPUAvailable())) {
        // The API is there but no adapter answers: pass over webgpu too.
        const rest = GPU_MODES.slice(1).find((m) => probeMode(m).isSupported) ?? 'cpu';
        choice = { mode: rest, passedOver: ['webgpu: navigator.gpu gives no adapter'] };
      }
      lastAutoChoice = choice;
      return findBackend(lastAutoChoice.mode);
    },
    -1,
  );
}
