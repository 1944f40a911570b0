import { cast, type Shape, type Tensor } from '@gpunet/tensor';
import type { Module } from '../module.js';
import { type OnnxLayerSpec, type OnnxStep, onnxSteps } from './layers.js';
import { ONNX_IR_VERSION, ONNX_OPSET, type OnnxTypes, onnx } from './proto.js';

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /** The input's shape, batch included, e.g. `[1, 3, 227, 227]`; the batch becomes the symbolic `N`. */
  inputShape: Shape;
  /** Graph input name. Default 'input'. */
  inputName?: string;
  /** Graph output name. Default 'output'. */
  outputName?: string;
  /** Graph name. Default 'gpunet'. */
  graphName?: string;
  /** String metadata, stored as the model's `metadata_props`. */
  metadata?: Record<string, string>;
  /** The model's doc string. */
  docString?: string;
}

const { AttributeType } = onnx.AttributeProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

const ints = (name: string, values: number[]): OnnxTypes.IAttributeProto => ({
  name,
  type: AttributeType.INTS,
  ints: values,
});
const int = (name: string, value: number): OnnxTypes.IAttributeProto => ({
  name,
  type: AttributeType.INT,
  i: value,
});
const float = (name: string, value: number): OnnxTypes.IAttributeProto => ({
  name,
  type: AttributeType.FLOAT,
  f: value,
});

/** A float32 tensor as an ONNX initializer (raw little-endian bytes, as PyTorch writes them). */
export async function tensorProto(name: string, t: Tensor): Promise<OnnxTypes.ITensorProto> {
  const source = t.dtype === 'float32' ? t : cast(t, 'float32');
  const data = (await source.data()) as Float32Array;
  if (source !== t) source.dispose();
  // JS typed arrays use the platform's byte order, little-endian on every engine gpunet targets.
  const copy = new Float32Array(data);
  return {
    name,
    dims: [...t.shape],
    dataType: FLOAT,
    rawData: new Uint8Array(copy.buffer),
  };
}

function valueInfo(name: string, shape: number[]): OnnxTypes.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: shape.map((d, i) => (i === 0 ? { dimParam: 'N' } : { dimValue: d })) },
      },
    },
  };
}

/** The node of one step: inputs, attributes and the initializers it needs. */
async function nodeOf(
  step: OnnxStep & { spec: OnnxLayerSpec },
  input: string,
  output: string,
  initializers: OnnxTypes.ITensorProto[],
): Promise<OnnxTypes.INodeProto> {
  const { spec, path } = step;
  const node: OnnxTypes.INodeProto = {
    name: path,
    opType: spec.op,
    input: [input],
    output: [output],
  };
  const addWeights = async (weight: Tensor, bias: Tensor | null) => {
    initializers.push(await tensorProto(`${path}.weight`, weight));
    node.input?.push(`${path}.weight`);
    if (bias) {
      initializers.push(await tensorProto(`${path}.bias`, bias));
      node.input?.push(`${path}.bias`);
    }
  };
  switch (spec.op) {
    case 'Conv':
      await addWeights(spec.weight, spec.bias);
      node.attribute = [
        ints('kernel_shape', spec.kernelShape),
        ints('strides', spec.strides),
        ints('pads', spec.pads),
        ints('dilations', spec.dilations),
        int('group', spec.group),
      ];
      break;
    case 'LRN':
      node.attribute = [
        int('size', spec.size),
        float('alpha', spec.alpha),
        float('beta', spec.beta),
        float('bias', spec.bias),
      ];
      break;
    case 'MaxPool':
      node.attribute = [
        ints('kernel_shape', spec.kernelShape),
        ints('strides', spec.strides),
        ints('pads', spec.pads),
        ints('dilations', spec.dilations),
        int('ceil_mode', spec.ceilMode ? 1 : 0),
      ];
      break;
    case 'AveragePool':
      node.attribute = [
        ints('kernel_shape', spec.kernelShape),
        ints('strides', spec.strides),
        ints('pads', spec.pads),
        int('ceil_mode', spec.ceilMode ? 1 : 0),
        int('count_include_pad', spec.countIncludePad ? 1 : 0),
      ];
      break;
    case 'Flatten':
      node.attribute = [int('axis', spec.axis)];
      break;
    case 'Gemm':
      await addWeights(spec.weight, spec.bias);
      node.attribute = [float('alpha', 1), float('beta', 1), int('transB', 1)];
      break;
    case 'Softmax':
      node.attribute = [int('axis', spec.axis)];
      break;
    case 'Relu':
    case 'GlobalAveragePool':
      break;
  }
  return node;
}

/**
 * Writes `model` as an ONNX model (opset 13, IR version 7), in eval mode: one node per layer its
 * forward calls (found by tracing a zero input of `inputShape`), Dropout and identity pools
 * left out, the parameters as initializers named by their state-dict keys (`features.0.weight`),
 * values named after the module paths, and the batch dimension symbolic (`N`). Supported layers:
 * Conv2d (Conv, with groups), ReLU (Relu), LocalResponseNorm (LRN, odd sizes), MaxPool2d
 * (MaxPool), AvgPool2d (AveragePool), AdaptiveAvgPool2d (GlobalAveragePool, or AveragePool where
 * the output divides the input), Flatten (Flatten), Linear (Gemm), Softmax (Softmax); any other
 * throws `OnnxExportError` naming the module. The protobuf is encoded by `onnx-proto`'s
 * generated code from the official onnx.proto.
 */
export async function exportOnnx(model: Module, options: ExportOnnxOptions): Promise<Uint8Array> {
  const inputName = options.inputName ?? 'input';
  const outputName = options.outputName ?? 'output';
  const steps = onnxSteps(model, options.inputShape);
  const nodes: OnnxTypes.INodeProto[] = [];
  const initializers: OnnxTypes.ITensorProto[] = [];
  const kept = steps.filter((s): s is OnnxStep & { spec: OnnxLayerSpec } => s.spec !== null);
  let current = inputName;
  for (const [i, step] of kept.entries()) {
    const output = i === kept.length - 1 ? outputName : step.path;
    nodes.push(await nodeOf(step, current, output, initializers));
    current = output;
  }
  if (current !== outputName) {
    nodes.push({ name: 'output', opType: 'Identity', input: [current], output: [outputName] });
  }
  const outputShape =
    steps.length > 0 ? steps[steps.length - 1].outputShape : [...options.inputShape];
  const model_: OnnxTypes.IModelProto = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'gpunet',
    docString: options.docString ?? '',
    graph: {
      name: options.graphName ?? 'gpunet',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(inputName, [...options.inputShape])],
      output: [valueInfo(outputName, outputShape)],
    },
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model_)).finish();
}
