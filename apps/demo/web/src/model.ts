/**
 * The demo's model: the mini AlexNet the bundled checkpoint was trained as, built on the current
 * backend from .safetensors or PyTorch .pth bytes, and a forward pass one module at a time that
 * times each layer and keeps the activations the page draws.
 */
import { type AlexNet, alexnet, SYNTHETIC_BAR_CLASSES } from '@gpunet/alexnet';
import { readPth, readSafetensors, StateDictError, type WeightsFile } from '@gpunet/layers';
import { noGrad, type Tensor, tensor } from '@gpunet/tensor';

/** The mini AlexNet of web/scripts/make-checkpoint.mjs: 28x28 grey images, 4 bar classes. */
export const MODEL_OPTIONS = {
  variant: 'mini',
  inputSize: 28,
  inChannels: 1,
  numClasses: 4,
  seed: 1,
} as const;

/** Class names by fc8 index. */
export const CLASS_NAMES: readonly string[] = SYNTHETIC_BAR_CLASSES;

/** A weights file as the user gave it. */
export interface WeightsSource {
  name: string;
  bytes: Uint8Array;
}

/** Reads .pth (a zip, or the legacy pickle stream) or .safetensors bytes, by content. */
export function readWeights(source: WeightsSource): WeightsFile {
  const b = source.bytes;
  const isZip = b[0] === 0x50 && b[1] === 0x4b; // 'PK': PyTorch 1.6+ zip format
  const isPickle = b[0] === 0x80; // pickle protocol marker: the legacy .pth format
  try {
    return isZip || isPickle ? readPth(b) : readSafetensors(b);
  } catch (error) {
    throw new Error(`${source.name}: not a readable .safetensors or .pth file: ${message(error)}`);
  }
}

/**
 * Builds the mini AlexNet on the current backend and loads the weights into it. Throws an
 * error naming the file and every missing, unexpected or mis-shaped key when they do not fit.
 */
export function buildModel(source: WeightsSource): AlexNet {
  const file = readWeights(source);
  const model = alexnet(MODEL_OPTIONS);
  try {
    model.loadStateDict(file.tensors);
  } catch (error) {
    for (const p of model.parameters()) p.dispose();
    const detail = error instanceof StateDictError ? error.message : message(error);
    throw new Error(
      `${source.name} does not fit the demo's mini AlexNet (28x28, 1 channel, 4 classes): ${detail}`,
    );
  } finally {
    // The parameters keep their own data (loadStateDict's contract).
    for (const t of file.tensors.values()) t.dispose();
  }
  return model.eval();
}

/** One module of the forward pass. */
export interface LayerTiming {
  /** Module path, e.g. `features.0`. */
  path: string;
  /** Module type, e.g. `Conv2d`. */
  type: string;
  /** Output shape. */
  shape: readonly number[];
  /** Milliseconds from the call to the output's data being read back. */
  ms: number;
}

/** What one classification gives the page. */
export interface Classification {
  logits: Float32Array;
  /** Softmax of the logits, by class index. */
  probabilities: Float32Array;
  timings: LayerTiming[];
  /** conv1's and conv2's outputs after their ReLU, `[1, C, H, W]`. */
  maps: { name: string; shape: readonly number[]; data: Float32Array }[];
}

/**
 * Runs one `[1, 28, 28]` image through the model module by module, awaiting each output's data
 * so that the timings include the device work (GPU backends queue it otherwise).
 */
export async function classify(model: AlexNet, image: Float32Array): Promise<Classification> {
  const { inChannels, inputSize } = model.options;
  const chain = model.chain();
  // The ReLU right after conv1 and conv2: their outputs are the feature maps.
  const mapPaths = new Map<string, string>();
  for (const name of ['conv1', 'conv2'] as const) {
    const at = chain.findIndex(([p]) => p === model.layerPaths[name]);
    mapPaths.set(chain[at + 1]?.[0] ?? model.layerPaths[name], name);
  }
  const timings: LayerTiming[] = [];
  const maps: Classification['maps'] = [];
  const input = tensor(image, [1, inChannels, inputSize, inputSize]);
  let y: Tensor = input;
  let logits: Float32Array = new Float32Array(0);
  for (const [path, module] of chain) {
    const start = performance.now();
    const next = noGrad(() => module.forward(y));
    const data = (await next.data()) as Float32Array;
    timings.push({ path, type: module.typeName, shape: next.shape, ms: performance.now() - start });
    const mapName = mapPaths.get(path);
    if (mapName) maps.push({ name: mapName, shape: next.shape, data });
    if (y !== next) y.dispose();
    y = next;
    logits = data;
  }
  y.dispose();
  return { logits, probabilities: softmaxOf(logits), timings, maps };
}

/** The conv1 weights `[out, in, k, k]`, read back from the device. */
export async function conv1Filters(
  model: AlexNet,
): Promise<{ shape: readonly number[]; data: Float32Array }> {
  const weight = model.stateDict().get(`${model.layerPaths.conv1}.weight`);
  if (!weight) throw new Error('the model has no conv1 weight');
  return { shape: weight.shape, data: (await weight.data()) as Float32Array };
}

/** Softmax in float64 on the host: the page shows probabilities of a handful of logits. */
function softmaxOf(logits: Float32Array): Float32Array {
  const max = Math.max(...logits);
  const exps = [...logits].map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return Float32Array.from(exps, (e) => e / total);
}

export function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
