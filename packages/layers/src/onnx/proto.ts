/**
 * The ONNX protobuf schema, from the `onnx-proto` package (protobufjs code generated from the
 * official onnx.proto), and small helpers around it. Nothing here encodes protobuf by hand.
 */
import * as onnxModule from 'onnx-proto';

export type { onnx as OnnxTypes } from 'onnx-proto';

// onnx-proto is CommonJS (`module.exports = $root`): Node's ESM loader puts it on `default`,
// bundlers and require() give the namespace itself.
const root = (onnxModule as { default?: typeof onnxModule }).default ?? onnxModule;

/** The generated `onnx` namespace: `ModelProto.encode/decode`, `TensorProto.DataType`, ... */
export const onnx = root.onnx;

/** An int64 field as protobufjs hands it over: a number, or a Long for values past 2^53. */
export interface LongLike {
  toNumber(): number;
}

/** An int64 field as a JS number. */
export function toNumber(value: number | LongLike | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}

/** The ONNX opset the exporter writes (Conv 11, MaxPool 12, Gemm/Flatten/Softmax 13). */
export const ONNX_OPSET = 13;
/** The IR version matching opset 13 (ONNX 1.8). */
export const ONNX_IR_VERSION = 7;
