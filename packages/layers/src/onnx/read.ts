import { formatShape, type Tensor, tensor } from '@gpunet/tensor';
import type { StateDict } from '../state-dict.js';
import { WeightsFormatError } from '../weights-file.js';
import { ONNX_OPS, type OnnxLayerSpec } from './layers.js';
import { type LongLike, type OnnxTypes, onnx, toNumber } from './proto.js';

/** One node of an imported chain, with its spec and the shapes the importer worked out. */
export interface OnnxGraphLayer {
  /** The node's name, or `#<index> <op>` when it has none. */
  name: string;
  spec: OnnxLayerSpec;
  /** Shapes with the batch as -1 when the graph leaves it symbolic. */
  inputShape: number[];
  outputShape: number[];
}

/** What `readOnnx` found in a model. */
export interface OnnxGraph {
  /** The graph input's name and shape (-1 for a symbolic dimension). */
  inputName: string;
  inputShape: number[];
  /** The graph output's name. */
  outputName: string;
  /** The chain of nodes that compute something (Dropout and Identity left out). */
  layers: OnnxGraphLayer[];
  /** The Conv and Gemm weights and biases by initializer name (the same tensors as in `layers`). */
  initializers: StateDict;
  /** The model's `metadata_props`. */
  metadata: Record<string, string>;
  /** The default-domain opset the model imports. */
  opset: number;
  /** `producer_name producer_version`. */
  producer: string;
}

const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

function fail(message: string): never {
  throw new WeightsFormatError(`onnx: ${message}`);
}

/** An initializer's values: float32 for FLOAT/DOUBLE/FLOAT16, numbers for INT64/INT32. */
function tensorValues(
  t: OnnxTypes.ITensorProto,
  where: string,
): { values: Float32Array | number[]; shape: number[] } {
  const shape = (t.dims ?? []).map((d) => toNumber(d));
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.byteLength > 0 ? t.rawData : null;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    fail(`${where} keeps its data in an external file, which gpunet does not read`);
  }
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const expectBytes = (size: number) => {
    if (view && view.byteLength !== count * size) {
      fail(
        `${where} ${formatShape(shape)} needs ${count * size} bytes of data but has ${view.byteLength} (truncated?)`,
      );
    }
  };
  const checkCount = (n: number) => {
    if (n !== count) fail(`${where} ${formatShape(shape)} needs ${count} values but has ${n}`);
  };
  switch (t.dataType) {
    case DataType.FLOAT: {
      expectBytes(4);
      const out = new Float32Array(count);
      if (view) for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      else {
        checkCount(t.floatData?.length ?? 0);
        out.set(t.floatData ?? []);
      }
      return { values: out, shape };
    }
    case DataType.DOUBLE: {
      expectBytes(8);
      const out = new Float32Array(count);
      if (view) for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      else {
        checkCount(t.doubleData?.length ?? 0);
        out.set(t.doubleData ?? []);
      }
      return { values: out, shape };
    }
    case DataType.INT64: {
      expectBytes(8);
      if (view) {
        return {
          values: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(8 * i, true))),
          shape,
        };
      }
      checkCount(t.int64Data?.length ?? 0);
      return { values: (t.int64Data ?? []).map((v) => toNumber(v as number | LongLike)), shape };
    }
    case DataType.INT32: {
      expectBytes(4);
      if (view)
        return {
          values: Array.from({ length: count }, (_, i) => view.getInt32(4 * i, true)),
          shape,
        };
      checkCount(t.int32Data?.length ?? 0);
      return { values: [...(t.int32Data ?? [])], shape };
    }
    default:
      return fail(
        `${where} has data type ${DataType[t.dataType ?? 0] ?? t.dataType}; gpunet reads FLOAT, DOUBLE, INT32 and INT64 initializers`,
      );
  }
}

type Attributes = Map<string, OnnxTypes.IAttributeProto>;

function attributeReader(node: OnnxTypes.INodeProto, where: string) {
  const attrs: Attributes = new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
  const get = (name: string, type: number) => {
    const a = attrs.get(name);
    if (!a) return undefined;
    if (a.type !== type) {
      fail(
        `${where}: attribute ${name} is ${AttributeType[a.type ?? 0]}, expected ${AttributeType[type]}`,
      );
    }
    return a;
  };
  return {
    ints(name: string, fallback: number[]): number[] {
      const a = get(name, AttributeType.INTS);
      return a ? (a.ints ?? []).map((v) => toNumber(v)) : fallback;
    },
    int(name: string, fallback: number): number {
      const a = get(name, AttributeType.INT);
      return a ? toNumber(a.i) : fallback;
    },
    float(name: string, fallback: number): number {
      const a = get(name, AttributeType.FLOAT);
      return a ? (a.f ?? 0) : fallback;
    },
    string(name: string, fallback: string): string {
      const a = get(name, AttributeType.STRING);
      return a?.s ? new TextDecoder().decode(a.s) : fallback;
    },
  };
}

/** ONNX pooling/conv output side: floor (or ceil) of the window count, pads begin + end. */
function windowOutput(
  size: number,
  kernel: number,
  stride: number,
  padBegin: number,
  padEnd: number,
  dilation: number,
  ceil: boolean,
): number {
  const span = dilation * (kernel - 1) + 1;
  const q = (size + padBegin + padEnd - span) / stride;
  let out = (ceil ? Math.ceil(q) : Math.floor(q)) + 1;
  // As PyTorch and onnxruntime do: the last window must start inside the input or the left padding.
  if (ceil && (out - 1) * stride >= size + padBegin) out--;
  return out;
}

/**
 * Reads an ONNX model's bytes (a `.onnx` file) as a chain of layers gpunet has: Conv, Relu, LRN,
 * MaxPool, AveragePool, GlobalAveragePool, Flatten (and Reshape to `[N, -1]`), Gemm, Softmax;
 * Dropout and Identity nodes are the identity at inference and are skipped, Constant nodes
 * feed Reshape. Each node must read the previous node's output and otherwise only
 * initializers. Shapes are worked out along the chain and every initializer is checked against
 * them. Anything else throws `WeightsFormatError` naming the node (or initializer) and what is
 * wrong: the first node that does not map, a truncated file, bytes that are not ONNX protobuf.
 */
export function readOnnx(bytes: Uint8Array): OnnxGraph {
  let model: OnnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return fail(
      `not a readable ONNX protobuf (${(error as Error).message}); truncated or not an .onnx file?`,
    );
  }
  const graph = model.graph;
  if (!graph || (graph.node ?? []).length === 0) {
    return fail(`the file has no graph with nodes (${bytes.byteLength} bytes); not an ONNX model?`);
  }
  const opset = (model.opsetImport ?? [])
    .filter((o) => !o.domain || o.domain === 'ai.onnx')
    .reduce((v, o) => Math.max(v, toNumber(o.version)), 0);
  const metadata: Record<string, string> = {};
  for (const entry of model.metadataProps ?? []) metadata[entry.key ?? ''] = entry.value ?? '';

  const initializers: StateDict = new Map();
  const constants = new Map<string, { values: Float32Array | number[]; shape: number[] }>();
  const cleanup = () => {
    for (const t of initializers.values()) t.dispose();
  };
  try {
    for (const init of graph.initializer ?? []) {
      constants.set(init.name ?? '', tensorValues(init, `initializer '${init.name}'`));
    }
    const floatTensor = (name: string, where: string): Tensor => {
      const existing = initializers.get(name);
      if (existing) return existing;
      const c = constants.get(name);
      if (!c) return fail(`${where} reads '${name}', which is not an initializer`);
      if (!(c.values instanceof Float32Array))
        fail(`${where}: initializer '${name}' is not floating point`);
      const t = tensor(c.values, c.shape);
      initializers.set(name, t);
      return t;
    };

    const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ''));
    if (inputs.length !== 1) {
      return fail(
        `the graph has ${inputs.length} inputs besides its initializers; gpunet imports single-input chains`,
      );
    }
    const input = inputs[0];
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    const inputShape = dims.map((d) =>
      d.dimValue !== null && d.dimValue !== undefined && toNumber(d.dimValue) > 0
        ? toNumber(d.dimValue)
        : -1,
    );
    if (inputShape.length !== 4) {
      return fail(
        `graph input '${input.name}' has shape [${inputShape.join(', ')}]; gpunet imports image models with [N, C, H, W] inputs`,
      );
    }
    const outputs = graph.output ?? [];
    if (outputs.length !== 1)
      return fail(`the graph has ${outputs.length} outputs; gpunet imports single-output chains`);

    const layers: OnnxGraphLayer[] = [];
    let current = input.name ?? '';
    let shape = inputShape;
    for (const [index, node] of (graph.node ?? []).entries()) {
      const op = node.opType ?? '';
      const name = node.name || `#${index} ${op}`;
      const where = `node '${name}' (${op})`;
      if (node.domain && node.domain !== 'ai.onnx') {
        fail(`${where} is in domain '${node.domain}'; gpunet maps only standard ONNX operators`);
      }
      const attrs = attributeReader(node, where);
      if (op === 'Constant') {
        const value = (node.attribute ?? []).find((a) => a.name === 'value')?.t;
        if (!value) fail(`${where} has no tensor 'value'`);
        constants.set(node.output?.[0] ?? '', tensorValues(value as OnnxTypes.ITensorProto, where));
        continue;
      }
      const nodeInputs = (node.input ?? []).filter((s) => s !== '');
      if (nodeInputs[0] !== current) {
        fail(
          `${where} reads '${nodeInputs[0]}', not the previous layer's output '${current}'; gpunet imports chains of layers only`,
        );
      }
      const out = node.output?.[0] ?? '';
      if (op === 'Dropout' || op === 'Identity') {
        current = out;
        continue;
      }
      const [n, c, h, w] = shape;
      let spec: OnnxLayerSpec;
      let next: number[];
      switch (op) {
        case 'Conv': {
          if (shape.length !== 4) fail(`${where}: input ${formatShape(shape)} is not [N, C, H, W]`);
          const weight = floatTensor(nodeInputs[1] ?? '', where);
          const group = attrs.int('group', 1);
          if (weight.rank !== 4)
            fail(
              `${where}: weight '${nodeInputs[1]}' ${formatShape(weight.shape)} is not [out, in/group, kH, kW]`,
            );
          const [outC, inPerGroup, kh, kw] = weight.shape;
          if (c > 0 && inPerGroup * group !== c) {
            fail(
              `${where}: weight '${nodeInputs[1]}' ${formatShape(weight.shape)} with group ${group} expects ${inPerGroup * group} input channels but the input ${formatShape(shape)} has ${c}`,
            );
          }
          const kernelShape = attrs.ints('kernel_shape', [kh, kw]);
          if (kernelShape[0] !== kh || kernelShape[1] !== kw) {
            fail(
              `${where}: kernel_shape [${kernelShape}] does not match weight '${nodeInputs[1]}' ${formatShape(weight.shape)}`,
            );
          }
          let bias: Tensor | null = null;
          if (nodeInputs[2]) {
            bias = floatTensor(nodeInputs[2], where);
            if (bias.rank !== 1 || bias.shape[0] !== outC) {
              fail(
                `${where}: bias '${nodeInputs[2]}' ${formatShape(bias.shape)} does not match ${outC} output channels`,
              );
            }
          }
          const autoPad = attrs.string('auto_pad', 'NOTSET');
          if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
            fail(`${where}: auto_pad ${autoPad} is not supported; pads must be explicit`);
          const strides = attrs.ints('strides', [1, 1]);
          const dilations = attrs.ints('dilations', [1, 1]);
          const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : attrs.ints('pads', [0, 0, 0, 0]);
          spec = { op: 'Conv', kernelShape, strides, pads, dilations, group, weight, bias };
          next = [
            n,
            outC,
            windowOutput(h, kh, strides[0], pads[0], pads[2], dilations[0], false),
            windowOutput(w, kw, strides[1], pads[1], pads[3], dilations[1], false),
          ];
          break;
        }
        case 'Relu':
          spec = { op: 'Relu' };
          next = shape;
          break;
        case 'LRN':
          spec = {
            op: 'LRN',
            size: attrs.int('size', 0),
            alpha: attrs.float('alpha', 1e-4),
            beta: attrs.float('beta', 0.75),
            bias: attrs.float('bias', 1),
          };
          if (spec.size < 1) fail(`${where}: attribute size is missing`);
          next = shape;
          break;
        case 'MaxPool':
        case 'AveragePool': {
          if (shape.length !== 4) fail(`${where}: input ${formatShape(shape)} is not [N, C, H, W]`);
          const kernelShape = attrs.ints('kernel_shape', []);
          if (kernelShape.length !== 2) fail(`${where}: kernel_shape [${kernelShape}] is not 2-D`);
          const autoPad = attrs.string('auto_pad', 'NOTSET');
          if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
            fail(`${where}: auto_pad ${autoPad} is not supported; pads must be explicit`);
          const strides = attrs.ints('strides', [1, 1]);
          const pads = autoPad === 'VALID' ? [0, 0, 0, 0] : attrs.ints('pads', [0, 0, 0, 0]);
          const dilations = attrs.ints('dilations', [1, 1]);
          const ceilMode = attrs.int('ceil_mode', 0) === 1;
          if (
            attrs.int('storage_order', 0) !== 0 ||
            (node.output ?? []).filter((s) => s).length > 1
          ) {
            fail(`${where}: the Indices output and storage_order are not supported`);
          }
          spec =
            op === 'MaxPool'
              ? { op, kernelShape, strides, pads, dilations, ceilMode }
              : {
                  op,
                  kernelShape,
                  strides,
                  pads,
                  ceilMode,
                  countIncludePad: attrs.int('count_include_pad', 0) === 1,
                };
          next = [
            n,
            c,
            windowOutput(h, kernelShape[0], strides[0], pads[0], pads[2], dilations[0], ceilMode),
            windowOutput(w, kernelShape[1], strides[1], pads[1], pads[3], dilations[1], ceilMode),
          ];
          break;
        }
        case 'GlobalAveragePool':
          spec = { op: 'GlobalAveragePool' };
          next = [n, c, 1, 1];
          break;
        case 'Flatten':
        case 'Reshape': {
          if (op === 'Flatten') {
            const axis = attrs.int('axis', 1);
            if (axis !== 1 && axis !== 1 - shape.length)
              fail(`${where}: axis ${axis} is not 1; gpunet flattens to [N, features]`);
          } else {
            const target = constants.get(nodeInputs[1] ?? '');
            if (!target) fail(`${where}: its shape '${nodeInputs[1]}' is not a constant`);
            const t = [...target.values];
            const features = shape.slice(1).reduce((a, b) => a * b, 1);
            // [N, -1], [-1, C*H*W], [0, -1] or [N, C*H*W]: the batch kept, the rest flattened.
            const keepsBatch =
              t.length === 2 &&
              (t[1] === -1 || t[1] === features) &&
              (t[0] === 0 || t[0] === -1 || t[0] === n);
            if (!keepsBatch)
              fail(
                `${where}: reshape of ${formatShape(shape)} to [${t}] is not a flatten to [N, features]`,
              );
          }
          spec = { op: 'Flatten', axis: 1 };
          next = [n, shape.slice(1).reduce((a, b) => a * b, 1)];
          break;
        }
        case 'Gemm': {
          if (shape.length !== 2)
            fail(`${where}: input ${formatShape(shape)} is not [N, features]`);
          if (attrs.int('transA', 0) !== 0) fail(`${where}: transA = 1 is not supported`);
          if (attrs.float('alpha', 1) !== 1 || attrs.float('beta', 1) !== 1)
            fail(`${where}: alpha and beta must be 1`);
          let weight = floatTensor(nodeInputs[1] ?? '', where);
          if (weight.rank !== 2)
            fail(`${where}: weight '${nodeInputs[1]}' ${formatShape(weight.shape)} is not 2-D`);
          if (attrs.int('transB', 0) === 0) {
            // Gemm without transB holds [in, out]; gpunet's Linear holds [out, in].
            const transposed = weight.transpose(0, 1);
            initializers.set(nodeInputs[1] ?? '', transposed);
            weight.dispose();
            weight = transposed;
          }
          const [outF, inF] = weight.shape;
          if (inF !== c)
            fail(
              `${where}: weight '${nodeInputs[1]}' takes ${inF} features but the input ${formatShape(shape)} has ${c}`,
            );
          let bias: Tensor | null = null;
          if (nodeInputs[2]) {
            bias = floatTensor(nodeInputs[2], where);
            if (bias.size !== outF)
              fail(
                `${where}: bias '${nodeInputs[2]}' ${formatShape(bias.shape)} does not match ${outF} outputs`,
              );
            if (bias.rank !== 1) {
              const flat = bias.reshape([outF]);
              initializers.set(nodeInputs[2], flat);
              bias = flat;
            }
          }
          spec = { op: 'Gemm', weight, bias };
          next = [n, outF];
          break;
        }
        case 'Softmax': {
          const axis = attrs.int('axis', opset >= 13 ? -1 : 1);
          const resolved = axis < 0 ? axis + shape.length : axis;
          if (resolved !== shape.length - 1)
            fail(
              `${where}: softmax over axis ${axis} of ${formatShape(shape)}; gpunet maps only the last axis`,
            );
          spec = { op: 'Softmax', axis: resolved };
          next = shape;
          break;
        }
        default:
          return fail(
            `${where} has no gpunet layer (supported: ${ONNX_OPS.join(', ')}, Reshape to [N, -1], Dropout, Identity)`,
          );
      }
      if (next.some((d, i) => i > 0 && d < 1))
        fail(`${where}: output ${formatShape(next)} is empty for input ${formatShape(shape)}`);
      layers.push({ name, spec, inputShape: shape, outputShape: next });
      shape = next;
      current = out;
    }
    const outputName = outputs[0].name ?? '';
    if (outputName !== current)
      fail(`graph output '${outputName}' is not the last layer's output '${current}'`);
    return {
      inputName: input.name ?? '',
      inputShape,
      outputName,
      layers,
      initializers,
      metadata,
      opset,
      producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim(),
    };
  } catch (error) {
    cleanup();
    throw error;
  }
}
