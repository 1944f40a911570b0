/**
 * The page's model: any AlexNet built on the current backend from host weights and a spec, and a
 * forward pass one module at a time that times each module and keeps every activation the page
 * draws.
 */
import { type AlexNet, activationPath, alexnet } from '@gpunet/alexnet';
import { StateDictError } from '@gpunet/layers';
import { noGrad, type Tensor, tensor } from '@gpunet/tensor';
import { describeBytes, type ModelSpec, type RawWeights } from './spec.js';

/**
 * Builds the spec's AlexNet on the current backend and loads the weights into it. Throws one
 * sentence naming the file and every missing, unexpected or mis-shaped key when they do not fit.
 */
export function buildModel(spec: ModelSpec, weights: RawWeights): AlexNet {
  // 'pytorch' init: the layers' own init only, which the weights overwrite at once.
  const model = alexnet({ ...spec.model, init: 'pytorch' });
  const tensors = new Map<string, Tensor>();
  for (const [key, raw] of weights.tensors) tensors.set(key, tensor(raw.data, raw.shape));
  try {
    model.loadStateDict(tensors);
  } catch (error) {
    for (const p of model.parameters()) p.dispose();
    const detail = error instanceof StateDictError ? error.message : message(error);
    const { variant, inputSize, inChannels, numClasses } = spec.model;
    throw new Error(
      `${weights.name} (${describeBytes(weights.bytes)}) does not fit the ${variant} AlexNet its shapes suggest (${inputSize}×${inputSize}, ${inChannels} channel${inChannels === 1 ? '' : 's'}, ${numClasses} classes): ${detail}`,
    );
  } finally {
    // The parameters keep their own data (loadStateDict's contract).
    for (const t of tensors.values()) t.dispose();
  }
  return model.eval();
}

/** The number of values in the model's parameters. */
export function parameterCount(model: AlexNet): number {
  return model.parameters().reduce((sum, p) => sum + p.size, 0);
}

/** One module of the forward pass. */
export interface LayerOutput {
  /** Module path, e.g. `features.0`. */
  path: string;
  /** Module type, e.g. `Conv2d`. */
  type: string;
  /** The paper's name when the module is a learned layer or its ReLU: `conv1`, `conv1 ReLU`. */
  label: string;
  /** Output shape. */
  shape: readonly number[];
  /** Milliseconds from the call to the output's data being read back. */
  ms: number;
  /** The output's values (kept for feature maps; 4-D outputs only). */
  data: Float32Array | null;
}

/** What one classification gives the page. */
export interface Classification {
  logits: Float32Array;
  /** Softmax of the logits, by class index. */
  probabilities: Float32Array;
  layers: LayerOutput[];
}

/** Paper names by module path, with the ReLU after each learned layer (`activationPath`). */
function labels(model: AlexNet): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, path] of Object.entries(model.layerPaths)) {
    out.set(path, name);
    const activation = activationPath(model, name);
    if (activation !== path) out.set(activation, `${name} ReLU`);
  }
  return out;
}

/**
 * Runs one preprocessed image `[C, H, W]` (as values) through the model module by module,
 * awaiting each output's data so that the timings include the device work (GPU backends queue
 * it otherwise).
 */
export async function classify(model: AlexNet, image: Float32Array): Promise<Classification> {
  const { inChannels, inputSize } = model.options;
  const names = labels(model);
  const layers: LayerOutput[] = [];
  let y: Tensor = tensor(image, [1, inChannels, inputSize, inputSize]);
  let logits: Float32Array = new Float32Array(0);
  for (const [path, module] of model.chain()) {
    const start = performance.now();
    const next = noGrad(() => module.forward(y));
    const data = (await next.data()) as Float32Array;
    const ms = performance.now() - start;
    layers.push({
      path,
      type: module.typeName,
      label: names.get(path) ?? '',
      shape: next.shape,
      ms,
      data: next.rank === 4 ? data : null,
    });
    if (y !== next) y.dispose();
    y = next;
    logits = data;
  }
  y.dispose();
  return { logits, probabilities: softmaxOf(logits), layers };
}

/** Times `runs` forward passes (after one warm-up) and returns the median in milliseconds. */
export async function timeForward(model: AlexNet, runs: number): Promise<number> {
  const { inChannels, inputSize } = model.options;
  const input = tensor(new Float32Array(inChannels * inputSize * inputSize).fill(0.1), [
    1,
    inChannels,
    inputSize,
    inputSize,
  ]);
  const once = async () => {
    const start = performance.now();
    const out = noGrad(() => model.forward(input));
    await out.data();
    out.dispose();
    return performance.now() - start;
  };
  try {
    await once();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)];
  } finally {
    input.dispose();
  }
}

/** Softmax in float64 on the host. */
export function softmaxOf(logits: Float32Array): Float32Array {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) max = Math.max(max, v);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (e) => e / total);
}

/** An error's message, or the thrown value as text. */
export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
