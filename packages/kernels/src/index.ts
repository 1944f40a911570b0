/**
 * @gpunet/kernels: the gpu.js backend of gpunet. Importing it registers one backend per gpu.js
 * mode (`cpu`, `webasm`, `headlessgl`, `webgl`, `webgl2`, `webgpu`), `webasm-threads` (webasm
 * split over worker threads, with asynchronous reads) and `auto`.
 */
import { registerGpuBackends } from './register.js';

registerGpuBackends();

export {
  EXACT_INDEX_LIMIT,
  GpuBackend,
  type GpuBackendOptions,
  type GpuBackendStats,
} from './backend.js';
export {
  type AutoChoice,
  BACKEND_NAMES,
  type BackendName,
  type BackendProbe,
  chooseBackend,
  GPU_BACKENDS,
  isWebGPUAvailable,
  probeBackend,
} from './choose.js';
export { GPU_MODES, type GpuMode, type ModeSupport, probeMode } from './modes.js';
export {
  findSwiftShaderIcd,
  installNodeWebGPU,
  type NodeWebGPU,
  type WebGPUAdapterInfo,
} from './node-webgpu.js';
export { autoChoice, registerGpuBackends } from './register.js';
