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
  chooseMode,
  GPU_MODES,
  type GpuBackendName,
  type GpuMode,
  type ModeSupport,
  probeMode,
} from './modes.js';
export { autoChoice, registerGpuBackends } from './register.js';
