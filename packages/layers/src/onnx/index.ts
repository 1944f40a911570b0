export { type ExportOnnxOptions, exportOnnx, tensorProto } from './export.js';
export {
  layerSpec,
  ONNX_OPS,
  OnnxExportError,
  type OnnxLayerSpec,
  type OnnxStep,
  onnxSteps,
  type TracedLayer,
  traceLayers,
} from './layers.js';
export { type LoadOnnxOptions, loadOnnx } from './load.js';
export { ONNX_IR_VERSION, ONNX_OPSET } from './proto.js';
export { type OnnxGraph, type OnnxGraphLayer, readOnnx } from './read.js';
