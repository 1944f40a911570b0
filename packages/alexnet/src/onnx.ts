/**
 * AlexNet and ONNX: export any variant with its options in the model's metadata, and build an
 * AlexNet from an ONNX graph (see `alexnetFromOnnx`).
 */
import { exportOnnx, loadOnnx, type OnnxGraph, WeightsFormatError } from '@gpunet/layers';
import {
  type AlexNet,
  type AlexNetOptions,
  type AlexNetVariant,
  alexnet,
  type ResolvedAlexNetOptions,
} from './alexnet.js';

/** The `metadata_props` key under which `exportAlexNetOnnx` stores the model's options (JSON). */
export const ALEXNET_ONNX_METADATA_KEY = 'gpunet.alexnet.options';

/** Options of `exportAlexNetOnnx`. */
export interface ExportAlexNetOnnxOptions {
  /** More string metadata for the model's `metadata_props` (e.g. class names). */
  metadata?: Record<string, string>;
}

/**
 * Writes an AlexNet as an ONNX model (opset 13) that onnxruntime runs: input `input`
 * `[N, inChannels, inputSize, inputSize]`, output `logits` `[N, numClasses]`, eval mode (dropout
 * left out), the weights as initializers named by their state-dict keys and the options as JSON
 * in the metadata entry `gpunet.alexnet.options`. The graph is built from the module tree, so the
 * op list follows the variant: paper and mini `Conv Relu LRN MaxPool ... Flatten Gemm ...`,
 * torchvision without LRN (its adaptive pool is the identity at 224 px and is left out).
 */
export function exportAlexNetOnnx(
  model: AlexNet,
  options: ExportAlexNetOnnxOptions = {},
): Promise<Uint8Array> {
  const o = model.options;
  return exportOnnx(model, {
    inputShape: [1, o.inChannels, o.inputSize, o.inputSize],
    inputName: 'input',
    outputName: 'logits',
    graphName: `alexnet-${o.variant}`,
    docString: `gpunet AlexNet (${o.variant} variant), ${o.numClasses} classes, ${o.inChannels}x${o.inputSize}x${o.inputSize} input`,
    metadata: { [ALEXNET_ONNX_METADATA_KEY]: JSON.stringify(o), ...options.metadata },
  });
}

/**
 * The AlexNet options a graph (from `readOnnx`) describes, read from its layers: the variant
 * (LRN present: paper for an 11x11/4 conv1, else mini; no LRN: torchvision), the conv widths
 * and input channels from the Conv weights, fc6/fc7 width and classes from the Gemm weights, the
 * input size from the graph input (or, when it is symbolic, from the gpunet metadata or the
 * variant's default), the LRN constants from the first LRN node, and Caffe's ceil-mode pooling
 * from the MaxPool nodes (`ceil_mode`, or more padding at the end than at the start). Throws `WeightsFormatError`
 * when the graph does not have an AlexNet's 5 Conv and 3 Gemm nodes.
 */
export function alexnetOptionsFromOnnx(graph: OnnxGraph): AlexNetOptions {
  const convs = graph.layers.flatMap((l) => (l.spec.op === 'Conv' ? [l.spec] : []));
  const gemms = graph.layers.flatMap((l) => (l.spec.op === 'Gemm' ? [l.spec] : []));
  if (convs.length !== 5 || gemms.length !== 3) {
    const ops = graph.layers.map((l) => l.spec.op).join(' ');
    throw new WeightsFormatError(
      `onnx: the graph has ${convs.length} Conv and ${gemms.length} Gemm nodes, an AlexNet has 5 and 3 (ops: ${ops})`,
    );
  }
  const lrn = graph.layers.flatMap((l) => (l.spec.op === 'LRN' ? [l.spec] : []))[0];
  const conv1 = convs[0];
  const variant: AlexNetVariant = !lrn
    ? 'torchvision'
    : conv1.kernelShape[0] === 11 && conv1.strides[0] === 4
      ? 'paper'
      : 'mini';
  let saved: Partial<ResolvedAlexNetOptions> = {};
  const text = graph.metadata[ALEXNET_ONNX_METADATA_KEY];
  if (text) {
    try {
      saved = JSON.parse(text) as Partial<ResolvedAlexNetOptions>;
    } catch {
      throw new WeightsFormatError(`onnx: metadata '${ALEXNET_ONNX_METADATA_KEY}' is not JSON`);
    }
  }
  // Caffe rounds pooled sizes up: ceil_mode, or (converters from Caffe) extra padding at the end.
  const ceilMode = graph.layers.some(
    (l) =>
      l.spec.op === 'MaxPool' &&
      (l.spec.ceilMode || l.spec.pads[2] > l.spec.pads[0] || l.spec.pads[3] > l.spec.pads[1]),
  );
  const side = graph.inputShape[2];
  const inputSize = side > 0 ? side : saved.inputSize;
  const [c1, c2, c3, c4, c5] = convs.map((c) => c.weight.shape[0]);
  return {
    variant,
    numClasses: gemms[2].weight.shape[0],
    inputSize,
    inChannels: conv1.weight.shape[1] * conv1.group,
    channels: [c1, c2, c3, c4, c5],
    hidden: gemms[0].weight.shape[0],
    ...(saved.dropout === undefined ? {} : { dropout: saved.dropout }),
    ...(lrn ? { lrn: { size: lrn.size, alpha: lrn.alpha, beta: lrn.beta, k: lrn.bias } } : {}),
    ...(ceilMode ? { ceilMode } : {}),
    init: 'pytorch',
  };
}

/**
 * Builds the AlexNet an ONNX graph (from `readOnnx`, or `loadWeights('x.onnx').onnx`) holds and
 * loads its weights, in eval mode: options from `alexnetOptionsFromOnnx`, then every node checked
 * against the model's layer at the same place and the weights loaded by position
 * (`loadOnnx`), so initializer names do not matter. Reads gpunet's own exports, PyTorch's
 * `torch.onnx.export` of these layouts and Caffe's reference model as the ONNX model zoo ships it
 * (bvlcalexnet: LRN k 1, ceil-mode pooling, Reshape before fc6, a final Softmax, which is dropped:
 * the model returns logits). The first node that does not map throws `WeightsFormatError`
 * naming it. The graph's tensors are not disposed.
 */
export function alexnetFromOnnx(graph: OnnxGraph): AlexNet {
  const model = alexnet(alexnetOptionsFromOnnx(graph));
  try {
    const o = model.options;
    loadOnnx(model, graph, { inputShape: [1, o.inChannels, o.inputSize, o.inputSize] });
  } catch (error) {
    for (const p of model.parameters()) p.dispose();
    throw error;
  }
  return model.eval();
}
