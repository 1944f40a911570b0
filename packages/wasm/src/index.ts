/**
 * @gpunet/wasm: the fast CPU backend. Importing it registers the backend 'wasm' and makes it the
 * default (over the reference backend); `await setBackend('wasm')` selects it explicitly.
 */
import {
  type KernelConfig,
  referenceKernels,
  registerBackend,
  registerKernel,
} from '@gpunet/tensor';
import { WasmBackend, type WasmBackendOptions } from './backend.js';
import {
  conv2dBackpropFilterKernel,
  conv2dBackpropInputKernel,
  conv2dKernel,
  fusedConv2dKernel,
} from './kernels/conv.js';
import {
  binaryKernels,
  rectifyKernels,
  reluGradKernel,
  sumKernel,
  weightedSumKernel,
} from './kernels/elementwise.js';
import { batchMatMulKernel } from './kernels/matmul.js';
import {
  avgPool2dGradKernel,
  avgPool2dKernel,
  lrnGradKernel,
  lrnKernel,
  maxPool2dGradKernel,
  maxPool2dKernel,
} from './kernels/pool.js';

export { WasmBackend, type WasmBackendOptions } from './backend.js';
export { canShareMemory, relaxedSimdSupported } from './heap.js';

/** The kernels this backend runs as SIMD Wasm; the others are the reference loops on the Wasm heap. */
export const wasmKernels: KernelConfig[] = [
  batchMatMulKernel,
  conv2dKernel,
  fusedConv2dKernel,
  conv2dBackpropInputKernel,
  conv2dBackpropFilterKernel,
  maxPool2dKernel,
  maxPool2dGradKernel,
  avgPool2dKernel,
  avgPool2dGradKernel,
  lrnKernel,
  lrnGradKernel,
  ...binaryKernels,
  ...rectifyKernels,
  reluGradKernel,
  sumKernel,
  weightedSumKernel,
] as KernelConfig[];

/**
 * Registers the backend 'wasm' with these options, at priority 2, above the reference backend:
 * importing this package makes it the default backend (the library's choice on a machine
 * without a usable GPU). Its factory is synchronous where the engine compiles Wasm
 * synchronously (Node; browsers for a module this size), so `tensor(...)` right after the import
 * already runs here; elsewhere `await setBackend('wasm')` selects it.
 */
export function registerWasmBackend(options: WasmBackendOptions = {}): void {
  for (const kernel of referenceKernels) registerKernel({ ...kernel, backendName: 'wasm' });
  for (const kernel of wasmKernels) registerKernel(kernel);
  registerBackend(
    'wasm',
    () => {
      try {
        return WasmBackend.createSync(options);
      } catch {
        return WasmBackend.create(options);
      }
    },
    2,
  );
}

registerWasmBackend();
