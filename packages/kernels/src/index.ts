/**
 * @gpunet/kernels: the gpu.js backend of gpunet. Importing it registers one backend per gpu.js
 * mode (`webgpu`, `webgl2`, `webgl`, `headlessgl`, and the test modes `webasm` and `cpu`) and
 * `auto`, whose policy (`chooseBackend`) is the one every front end uses.
 */
import { registerGpuBackends } from './register.js';

registerGpuBackends();

export {
  EXACT_INDEX_LIMIT,
  GpuBackend,
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
