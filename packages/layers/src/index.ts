/**
 * @gpunet/layers: `Module`, `parameter`, the layers AlexNet needs, PyTorch's initializers, and
 * state dicts that read and write `.safetensors` and PyTorch `.pth` checkpoints (read and write), and ONNX export
 * and import of chain models.
 */

export type { FanMode, InitOptions, KaimingOptions, Nonlinearity, XavierOptions } from './init.js';
export * as init from './init.js';
export { ReLU, Softmax } from './layers/activation.js';
export { Conv2d, type Conv2dLayerOptions } from './layers/conv2d.js';
export { CrossEntropyLoss } from './layers/cross-entropy-loss.js';
export { Dropout, type DropoutLayerOptions } from './layers/dropout.js';
export { Flatten } from './layers/flatten.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { LocalResponseNorm } from './layers/local-response-norm.js';
export { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './layers/pooling.js';
export { Sequential } from './layers/sequential.js';
export {
  type ForwardHook,
  type ForwardPreHook,
  type LoadStateDictOptions,
  Module,
  type RemovableHandle,
} from './module.js';
export * from './onnx/index.js';
export { isParameter, type Parameter, type ParameterOptions, parameter } from './parameter.js';
export {
  PickleError,
  type PickleValue,
  readPickle,
  type StorageRef,
  type TensorRef,
} from './pickle.js';
export { type ReadPthOptions, readPth } from './pth.js';
export { type WritePthOptions, writePth } from './pth-write.js';
export { readSafetensors, writeSafetensors } from './safetensors.js';
export {
  type LoadStateDictResult,
  type ShapeMismatch,
  type StateDict,
  StateDictError,
  type StateDictLike,
} from './state-dict.js';
export {
  formatSummary,
  type ModelSummary,
  type SummaryOptions,
  type SummaryRow,
} from './summary.js';
export { type SkippedEntry, type WeightsFile, WeightsFormatError } from './weights-file.js';
