/**
 * The bridge between gpunet's layers and ONNX operators: each supported layer becomes one ONNX
 * node described by an `OnnxLayerSpec`, the same description the importer reads back from a graph.
 * The model is walked by tracing which leaf modules its forward calls, in order (see
 * `traceLayers`), so any model whose forward is a chain of these layers exports, whatever its
 * containers look like.
 */
import { formatShape, noGrad, type Shape, type Tensor, tidy, zeros } from '@gpunet/tensor';
import { ReLU, Softmax } from '../layers/activation.js';
import { Conv2d } from '../layers/conv2d.js';
import { Dropout } from '../layers/dropout.js';
import { Flatten } from '../layers/flatten.js';
import { Linear } from '../layers/linear.js';
import { LocalResponseNorm } from '../layers/local-response-norm.js';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from '../layers/pooling.js';
import type { Module } from '../module.js';

/**
 * One ONNX node of a chain model, with its attributes in ONNX's terms. `pads` are ONNX's
 * `[top, left, bottom, right]`; weights are `[out, in/group, kH, kW]` (Conv) and `[out, in]`
 * (Gemm with transB = 1).
 */
export type OnnxLayerSpec =
  | {
      op: 'Conv';
      kernelShape: number[];
      strides: number[];
      pads: number[];
      dilations: number[];
      group: number;
      weight: Tensor;
      bias: Tensor | null;
    }
  | { op: 'Relu' }
  | { op: 'LRN'; size: number; alpha: number; beta: number; bias: number }
  | {
      op: 'MaxPool';
      kernelShape: number[];
      strides: number[];
      pads: number[];
      dilations: number[];
      ceilMode: boolean;
    }
  | {
      op: 'AveragePool';
      kernelShape: number[];
      strides: number[];
      pads: number[];
      ceilMode: boolean;
      countIncludePad: boolean;
    }
  | { op: 'GlobalAveragePool' }
  | { op: 'Flatten'; axis: number }
  | { op: 'Gemm'; weight: Tensor; bias: Tensor | null }
  | { op: 'Softmax'; axis: number };

/** The ONNX operators gpunet exports and imports. */
export const ONNX_OPS = [
  'Conv',
  'Relu',
  'LRN',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'Flatten',
  'Gemm',
  'Softmax',
] as const;

/** One leaf module call of a traced forward. */
export interface TracedLayer {
  /** Dotted module path, as in the state dict (`features.0`). */
  path: string;
  module: Module;
  /** Input and output shapes of the traced call (batch 1). */
  inputShape: number[];
  outputShape: number[];
}

/** A traced layer with its ONNX node; `spec` null means the layer is the identity in eval mode. */
export interface OnnxStep extends TracedLayer {
  spec: OnnxLayerSpec | null;
}

/** Thrown when a model cannot be written as ONNX; the message names the module. */
export class OnnxExportError extends Error {
  override name = 'OnnxExportError';
}

/** PyTorch's output side of a window op (conv or pool, floor or ceil mode). */
function windowSide(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation: number,
  ceilMode: boolean,
): number {
  const span = dilation * (kernel - 1) + 1;
  const numerator = size + 2 * pad - span + (ceilMode ? stride - 1 : 0);
  let out = Math.floor(numerator / stride) + 1;
  // PyTorch's rule: in ceil mode the last window must start inside the input or left padding.
  if (ceilMode && (out - 1) * stride >= size + pad) out--;
  return out;
}

/**
 * The output shape of a supported layer for an input shape, worked out from its attributes (so
 * tracing a 240 MB model costs nothing), or null for a layer the exporter does not know (it is
 * then run for real, and refused afterwards).
 */
function outputShapeOf(path: string, module: Module, input: readonly number[]): number[] | null {
  const where = `exportOnnx: ${path} (${module.typeName})`;
  const spatial = (
    kernel: number | readonly number[],
    stride: number | readonly number[],
    padding: number | readonly number[],
    dilation: number | readonly number[],
    ceilMode: boolean,
  ) => {
    if (input.length !== 4) {
      throw new OnnxExportError(`${where}: input ${formatShape(input)} is not [N, C, H, W]`);
    }
    const [k, s, p, d] = [kernel, stride, padding, dilation].map((v) => pair(v, path));
    return [0, 1].map((i) => windowSide(input[2 + i], k[i], s[i], p[i], d[i], ceilMode));
  };
  if (module instanceof Conv2d) {
    if (input[1] !== module.inChannels) {
      throw new OnnxExportError(
        `${where}: input ${formatShape(input)} has ${input[1]} channels, the layer takes ${module.inChannels}`,
      );
    }
    if (module.padding === 'same') return [input[0], module.outChannels, input[2], input[3]];
    const padding = module.padding === 'valid' ? 0 : module.padding;
    const hw = spatial(module.kernelSize, module.stride, padding, module.dilation, false);
    return [input[0], module.outChannels, ...hw];
  }
  if (
    module instanceof ReLU ||
    module instanceof Dropout ||
    module instanceof LocalResponseNorm ||
    module instanceof Softmax
  ) {
    return [...input];
  }
  if (module instanceof MaxPool2d || module instanceof AvgPool2d) {
    const o = module.options;
    const dilation = module instanceof MaxPool2d ? (module.options.dilation ?? 1) : 1;
    const hw = spatial(
      o.kernelSize,
      o.stride ?? o.kernelSize,
      o.padding ?? 0,
      dilation,
      o.ceilMode ?? false,
    );
    return [input[0], input[1], ...hw];
  }
  if (module instanceof AdaptiveAvgPool2d) {
    return [...input.slice(0, -2), ...pair(module.outputSize, path)];
  }
  if (module instanceof Flatten) {
    const rank = input.length;
    const start = module.startDim < 0 ? module.startDim + rank : module.startDim;
    const end = module.endDim < 0 ? module.endDim + rank : module.endDim;
    const middle = input.slice(start, end + 1).reduce((a, b) => a * b, 1);
    return [...input.slice(0, start), middle, ...input.slice(end + 1)];
  }
  if (module instanceof Linear) {
    if (input[input.length - 1] !== module.inFeatures) {
      throw new OnnxExportError(
        `${where}: input ${formatShape(input)} has ${input[input.length - 1]} features, the layer takes ${module.inFeatures}`,
      );
    }
    return [...input.slice(0, -1), module.outFeatures];
  }
  return null;
}

/**
 * Runs a zero input of `inputShape` through `model` in eval mode, without gradients, and returns
 * the leaf modules its forward called, in call order, with their shapes. Supported layers are not
 * computed: each returns zeros of the shape its attributes give, so tracing is instant even for
 * the full-size AlexNet. Throws when the forward is not a chain: a layer called twice, or a layer
 * fed something the previous layer did not produce (arithmetic in a container's forward has no
 * module, so it cannot be exported).
 */
export function traceLayers(model: Module, inputShape: Shape): TracedLayer[] {
  const leaves = model.namedModules().filter(([, m]) => m.children().length === 0);
  const calls: { path: string; module: Module; input: Tensor; output: Tensor }[] = [];
  const originals: [Module, Module['forward'], boolean][] = [];
  for (const [path, module] of leaves) {
    const original = module.forward;
    originals.push([module, original, Object.hasOwn(module, 'forward')]);
    module.forward = (input: Tensor, ...rest: Tensor[]) => {
      if (rest.length > 0) {
        throw new OnnxExportError(`exportOnnx: ${path} takes more than one input`);
      }
      const shape = outputShapeOf(path, module, input.shape);
      const output = shape ? zeros(shape) : original.call(module, input);
      calls.push({ path, module, input, output });
      return output;
    };
  }
  const wasTraining = model.isTraining;
  const layers: TracedLayer[] = [];
  try {
    model.eval();
    tidy(() =>
      noGrad(() => {
        const x = zeros(inputShape);
        const y = model.forward(x);
        let previous = x;
        let previousPath = 'the model input';
        const seen = new Set<Module>();
        for (const call of calls) {
          if (seen.has(call.module)) {
            throw new OnnxExportError(
              `exportOnnx: ${call.path} is called twice; only chains of distinct layers export`,
            );
          }
          seen.add(call.module);
          if (call.input !== previous) {
            throw new OnnxExportError(
              `exportOnnx: ${call.path} is not fed the output of ${previousPath}; the forward computes something between them that is not a module`,
            );
          }
          layers.push({
            path: call.path,
            module: call.module,
            inputShape: [...call.input.shape],
            outputShape: [...call.output.shape],
          });
          previous = call.output;
          previousPath = call.path;
        }
        if (y !== previous) {
          throw new OnnxExportError(
            `exportOnnx: the model's output is not the output of its last layer (${previousPath})`,
          );
        }
      }),
    );
  } finally {
    for (const [module, original, wasOwn] of originals) {
      if (wasOwn) module.forward = original;
      else delete (module as { forward?: unknown }).forward;
    }
    model.train(wasTraining);
  }
  return layers;
}

/** `n` or `[a, b]` as a pair. */
export function pair(value: number | readonly number[], what: string): [number, number] {
  if (typeof value === 'number') return [value, value];
  if (value.length === 1) return [value[0], value[0]];
  if (value.length === 2) return [value[0], value[1]];
  throw new OnnxExportError(`exportOnnx: ${what} must be a number or a pair, got [${value}]`);
}

/** The ONNX node of one traced layer, or null when it is the identity in eval mode. */
export function layerSpec(layer: TracedLayer): OnnxLayerSpec | null {
  const { path, module, inputShape, outputShape } = layer;
  const where = `exportOnnx: ${path} (${module.typeName})`;
  if (module instanceof Conv2d) {
    const [kh, kw] = pair(module.kernelSize, `${path} kernelSize`);
    const dilations = pair(module.dilation, `${path} dilation`);
    let pads: number[];
    if (module.padding === 'valid') pads = [0, 0, 0, 0];
    else if (module.padding === 'same') {
      // PyTorch's 'same': total padding dilation * (k - 1), the odd pixel at the end.
      const [th, tw] = [dilations[0] * (kh - 1), dilations[1] * (kw - 1)];
      pads = [
        Math.floor(th / 2),
        Math.floor(tw / 2),
        th - Math.floor(th / 2),
        tw - Math.floor(tw / 2),
      ];
    } else {
      const [ph, pw] = pair(module.padding, `${path} padding`);
      pads = [ph, pw, ph, pw];
    }
    return {
      op: 'Conv',
      kernelShape: [kh, kw],
      strides: pair(module.stride, `${path} stride`),
      pads,
      dilations,
      group: module.groups,
      weight: module.weight,
      bias: module.bias,
    };
  }
  if (module instanceof ReLU) return { op: 'Relu' };
  if (module instanceof Dropout) return null;
  if (module instanceof LocalResponseNorm) {
    const { size, alpha = 1e-4, beta = 0.75, k = 1 } = module.options;
    if (size % 2 === 0) {
      throw new OnnxExportError(
        `${where}: size ${size} is even; ONNX's LRN centres an even window one channel later than PyTorch's, so only odd sizes export`,
      );
    }
    return { op: 'LRN', size, alpha, beta, bias: k };
  }
  if (module instanceof MaxPool2d) {
    const o = module.options;
    const [ph, pw] = pair(o.padding ?? 0, `${path} padding`);
    return {
      op: 'MaxPool',
      kernelShape: pair(o.kernelSize, `${path} kernelSize`),
      strides: pair(o.stride ?? o.kernelSize, `${path} stride`),
      pads: [ph, pw, ph, pw],
      dilations: pair(o.dilation ?? 1, `${path} dilation`),
      ceilMode: o.ceilMode ?? false,
    };
  }
  if (module instanceof AvgPool2d) {
    const o = module.options;
    if (o.divisorOverride !== undefined) {
      throw new OnnxExportError(`${where}: divisorOverride has no ONNX AveragePool attribute`);
    }
    const [ph, pw] = pair(o.padding ?? 0, `${path} padding`);
    return {
      op: 'AveragePool',
      kernelShape: pair(o.kernelSize, `${path} kernelSize`),
      strides: pair(o.stride ?? o.kernelSize, `${path} stride`),
      pads: [ph, pw, ph, pw],
      ceilMode: o.ceilMode ?? false,
      countIncludePad: o.countIncludePad ?? true,
    };
  }
  if (module instanceof AdaptiveAvgPool2d) {
    const [h, w] = inputShape.slice(-2);
    const [oh, ow] = outputShape.slice(-2);
    if (oh === 1 && ow === 1) return { op: 'GlobalAveragePool' };
    if (oh === h && ow === w) return null;
    // PyTorch's adaptive windows are uniform exactly when the output divides the input.
    if (h % oh === 0 && w % ow === 0) {
      return {
        op: 'AveragePool',
        kernelShape: [h / oh, w / ow],
        strides: [h / oh, w / ow],
        pads: [0, 0, 0, 0],
        ceilMode: false,
        countIncludePad: true,
      };
    }
    throw new OnnxExportError(
      `${where}: pooling ${h}x${w} to ${oh}x${ow} uses windows of different sizes, which no ONNX pooling node expresses; export at an input size where pool5 is a multiple of the output`,
    );
  }
  if (module instanceof Flatten) {
    const rank = inputShape.length;
    const start = module.startDim < 0 ? module.startDim + rank : module.startDim;
    const end = module.endDim < 0 ? module.endDim + rank : module.endDim;
    if (start !== 1 || end !== rank - 1) {
      throw new OnnxExportError(
        `${where}: only Flatten(1, -1) maps onto ONNX Flatten, got Flatten(${module.startDim}, ${module.endDim})`,
      );
    }
    return { op: 'Flatten', axis: 1 };
  }
  if (module instanceof Linear) {
    if (inputShape.length !== 2) {
      throw new OnnxExportError(
        `${where}: input ${formatShape(inputShape)} is not [N, features]; Gemm takes 2-D inputs only`,
      );
    }
    return { op: 'Gemm', weight: module.weight, bias: module.bias };
  }
  if (module instanceof Softmax) {
    const axis = module.dim < 0 ? module.dim + inputShape.length : module.dim;
    return { op: 'Softmax', axis };
  }
  throw new OnnxExportError(
    `${where}: no ONNX mapping for this layer (supported: Conv2d, ReLU, LocalResponseNorm, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Linear, Dropout, Softmax)`,
  );
}

/** `traceLayers` with each layer's ONNX node. */
export function onnxSteps(model: Module, inputShape: Shape): OnnxStep[] {
  return traceLayers(model, inputShape).map((layer) => ({ ...layer, spec: layerSpec(layer) }));
}
