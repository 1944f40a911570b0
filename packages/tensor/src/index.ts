/**
 * @gpunet/tensor: tensors, autograd, memory scopes and the backend registry, with a plain
 * TypeScript reference backend registered on import.
 */
import { registerReferenceBackend } from './backends/reference/index.js';

registerReferenceBackend();

export type {
  Backend,
  DataId,
  KernelConfig,
  KernelFunc,
  TensorInfo,
} from './backend.js';
export { getKernel, listKernels, registerKernel } from './backend.js';
export {
  type HostBackend,
  ReferenceBackend,
  referenceKernels,
} from './backends/reference/index.js';
export type { BackendFactory, MemoryInfo, TensorContainer } from './engine.js';
export {
  dispose,
  findBackend,
  getBackend,
  getBackendName,
  keep,
  listBackends,
  memory,
  noGrad,
  registerBackend,
  runKernel,
  setBackend,
  tidy,
} from './engine.js';
export { DTypeError, formatShape, ShapeError } from './errors.js';
export { broadcastShapes, sizeOf, stridesOf } from './internal/shape.js';
export * from './kernel-names.js';
export * from './ops/index.js';
export { defaultGenerator, Generator, type GeneratorState, manualSeed } from './random.js';
export { type GradFn, Tensor, type TensorLike } from './tensor.js';
export type { DType, NestedArray, Shape, TypedArray } from './types.js';
