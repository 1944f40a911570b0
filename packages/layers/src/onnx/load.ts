import { formatShape, type Shape, type Tensor } from '@gpunet/tensor';
import type { Module } from '../module.js';
import type { StateDict } from '../state-dict.js';
import { WeightsFormatError } from '../weights-file.js';
import { type OnnxLayerSpec, type OnnxStep, onnxSteps } from './layers.js';
import type { OnnxGraph, OnnxGraphLayer } from './read.js';

/** Options of `loadOnnx`. */
export interface LoadOnnxOptions {
  /**
   * The input shape to trace the model with, batch included. Default: the graph's input shape
   * with the batch as 1 (it must then be fully known).
   */
  inputShape?: Shape;
  /**
   * Drop a Softmax at the end of the graph (the ONNX model zoo's classifiers end in one; gpunet
   * models return logits and apply softmax in `predict`). Default true.
   */
  dropFinalSoftmax?: boolean;
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i]);
// Attributes stored as float32 in the file (alpha 5e-4 reads back as 0.0005000000237...).
const sameFloat = (a: number, b: number) => Math.fround(a) === Math.fround(b);

/** A pooling node that leaves its input as it is (kernel 1, stride 1, no padding). */
function isIdentity(spec: OnnxLayerSpec): boolean {
  return (
    (spec.op === 'MaxPool' || spec.op === 'AveragePool') &&
    same(spec.kernelShape, [1, 1]) &&
    same(spec.strides, [1, 1]) &&
    spec.pads.every((p) => p === 0)
  );
}

function describe(spec: OnnxLayerSpec): string {
  switch (spec.op) {
    case 'Conv':
      return `Conv ${formatShape(spec.weight.shape)} strides [${spec.strides}] pads [${spec.pads}] dilations [${spec.dilations}] group ${spec.group}`;
    case 'LRN':
      return `LRN size ${spec.size} alpha ${spec.alpha} beta ${spec.beta} bias ${spec.bias}`;
    case 'MaxPool':
      return `MaxPool kernel [${spec.kernelShape}] strides [${spec.strides}] pads [${spec.pads}]${spec.ceilMode ? ' ceil' : ''}`;
    case 'AveragePool':
      return `AveragePool kernel [${spec.kernelShape}] strides [${spec.strides}] pads [${spec.pads}]${spec.ceilMode ? ' ceil' : ''}`;
    case 'Gemm':
      return `Gemm ${formatShape(spec.weight.shape)}`;
    default:
      return spec.op;
  }
}

/**
 * Why a graph node does not compute what the model's layer computes, or null when it does.
 * Pools match when kernel, strides, dilations and leading pads agree and they give the same
 * output size: then ceil mode and trailing pads (Caffe's way of writing ceil) change nothing.
 */
function mismatch(node: OnnxGraphLayer, step: OnnxStep & { spec: OnnxLayerSpec }): string | null {
  const a = node.spec;
  const b = step.spec;
  if (a.op !== b.op) return `is ${a.op}`;
  const outputs = () => same(node.outputShape.slice(2), step.outputShape.slice(2));
  switch (a.op) {
    case 'Conv': {
      const m = b as typeof a;
      const ok =
        same(a.weight.shape, m.weight.shape) &&
        same(a.strides, m.strides) &&
        same(a.pads, m.pads) &&
        same(a.dilations, m.dilations) &&
        a.group === m.group &&
        (a.bias === null) === (m.bias === null);
      return ok ? null : `is ${describe(a)}${a.bias ? '' : ' without bias'}`;
    }
    case 'LRN': {
      const m = b as typeof a;
      const ok =
        a.size === m.size &&
        sameFloat(a.alpha, m.alpha) &&
        sameFloat(a.beta, m.beta) &&
        sameFloat(a.bias, m.bias);
      return ok ? null : `is ${describe(a)}`;
    }
    case 'MaxPool':
    case 'AveragePool': {
      const m = b as typeof a;
      let ok =
        same(a.kernelShape, m.kernelShape) &&
        same(a.strides, m.strides) &&
        same(a.pads.slice(0, 2), m.pads.slice(0, 2)) &&
        outputs();
      if (a.op === 'MaxPool' && m.op === 'MaxPool') ok &&= same(a.dilations, m.dilations);
      if (a.op === 'AveragePool' && m.op === 'AveragePool' && a.pads.some((p) => p > 0)) {
        ok &&= a.countIncludePad === m.countIncludePad;
      }
      return ok ? null : `is ${describe(a)} giving ${formatShape(node.outputShape)}`;
    }
    case 'Gemm': {
      const m = b as typeof a;
      const ok = same(a.weight.shape, m.weight.shape) && (a.bias === null) === (m.bias === null);
      return ok ? null : `is ${describe(a)}`;
    }
    default:
      return null;
  }
}

/**
 * Loads an ONNX graph's weights (from `readOnnx`) into `model`, a gpunet model with the same chain
 * of layers: the model is traced (`onnxSteps`), its layers are paired with the graph's nodes in
 * order (Dropout, Identity and identity pools left out on both sides), each pair is checked
 * (operator, kernel, strides, padding, groups, LRN constants, weight shapes), and the Conv and
 * Gemm initializers are loaded under the model's state-dict keys. The first node that does not
 * map throws `WeightsFormatError` naming it and the model's layer, and nothing is loaded. Dispose
 * the graph's `initializers` when done (the parameters keep their data). Returns the keys loaded.
 */
export function loadOnnx(model: Module, graph: OnnxGraph, options: LoadOnnxOptions = {}): string[] {
  const inputShape = options.inputShape ?? [1, ...graph.inputShape.slice(1)];
  if (inputShape.some((d) => d < 1)) {
    throw new WeightsFormatError(
      `onnx: graph input '${graph.inputName}' has symbolic dimensions [${graph.inputShape}]; pass options.inputShape`,
    );
  }
  let nodes = graph.layers.filter((l) => !isIdentity(l.spec));
  const dropSoftmax = options.dropFinalSoftmax ?? true;
  const steps = onnxSteps(model, inputShape).filter(
    (s): s is OnnxStep & { spec: OnnxLayerSpec } => s.spec !== null,
  );
  const modelEndsInSoftmax = steps[steps.length - 1]?.spec.op === 'Softmax';
  if (dropSoftmax && !modelEndsInSoftmax && nodes[nodes.length - 1]?.spec.op === 'Softmax') {
    nodes = nodes.slice(0, -1);
  }
  const stateDict: StateDict = new Map();
  const count = Math.max(nodes.length, steps.length);
  for (let i = 0; i < count; i++) {
    const node = nodes[i];
    const step = steps[i];
    if (!node) {
      throw new WeightsFormatError(
        `onnx: the graph ends after node '${nodes[i - 1]?.name}' but the model goes on with ${step.path} (${describe(step.spec)})`,
      );
    }
    if (!step) {
      throw new WeightsFormatError(
        `onnx: node '${node.name}' (${describe(node.spec)}) has no counterpart; the model ends at ${steps[i - 1]?.path}`,
      );
    }
    const problem = mismatch(node, step);
    if (problem) {
      throw new WeightsFormatError(
        `onnx: node '${node.name}' ${problem}, but the model's ${step.path} (${step.module.typeName}) is ${describe(step.spec)}${
          step.spec.op === 'MaxPool' || step.spec.op === 'AveragePool'
            ? ` giving ${formatShape(step.outputShape)}`
            : ''
        }`,
      );
    }
    const put = (key: string, t: Tensor | null) => {
      if (t) stateDict.set(`${step.path}.${key}`, t);
    };
    if (node.spec.op === 'Conv' || node.spec.op === 'Gemm') {
      put('weight', node.spec.weight);
      put('bias', node.spec.bias);
    }
  }
  model.loadStateDict(stateDict);
  return [...stateDict.keys()];
}
