/**
 * The files a run leaves and the CLI reads back: `model.safetensors` holds the weights and, in its
 * metadata, everything needed to rebuild the model and feed it (options, class names,
 * normalization); `gpunet export` puts the same metadata in `.onnx` files. PyTorch `.pth` files
 * carry none: the variant and widths are read from the tensors' shapes, or given by flags.
 */
import { existsSync } from 'node:fs';
import {
  type AlexNet,
  type AlexNetOptions,
  type AlexNetVariant,
  alexnet,
  alexnetFromOnnx,
  IMAGENET_CLASSES,
} from '@gpunet/alexnet';
import { type StateDict, writeSafetensors } from '@gpunet/layers';
import { loadWeights } from '@gpunet/layers/node';
import type { Tensor } from '@gpunet/tensor';
import { writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';

/** What the CLI needs, beyond weights, to use a model. */
export interface ModelConfig {
  model: Required<Pick<AlexNetOptions, 'variant' | 'numClasses' | 'inputSize' | 'inChannels'>> &
    Pick<AlexNetOptions, 'channels' | 'hidden' | 'lrn' | 'ceilMode'>;
  classes: string[];
  mean: number[];
  std: number[];
  /** Trained with the paper's resize-and-crop scheme (then evaluated on centre crops of 8/7 size images). */
  augment: boolean;
  /**
   * The shorter side images are resized to before the crop: 256 for ImageNet weights
   * (torchvision's preprocessing); absent means 8/7 of the input size.
   */
  resize?: number;
  /** Where the weights came from when the model was fine-tuned (`--weights` of `gpunet train`). */
  pretrained?: string;
  /** The `--data` spec the model was trained on, if any. */
  data?: string;
}

/** The metadata key (safetensors `__metadata__`, ONNX `metadata_props`) of the JSON `ModelConfig`. */
export const METADATA_KEY = 'gpunet.demo.model';

/** ImageNet's normalization, as torchvision's pretrained models expect. */
export const IMAGENET_NORMALIZATION = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/**
 * The defaults for a model given only by `--model`, as for weights without gpunet metadata (a
 * torchvision `.pth`): an RGB ImageNet model with torchvision's preprocessing, i.e. the shorter
 * side resized to 256, the centre 224x224 (227x227 for the paper model) and ImageNet's mean and
 * std, with `IMAGENET_CLASSES` as the names of 1000 classes.
 */
export function defaultConfig(variant: 'paper' | 'torchvision' | 'mini'): ModelConfig {
  const numClasses = variant === 'mini' ? 10 : 1000;
  return {
    model: {
      variant,
      numClasses,
      inputSize: variant === 'paper' ? 227 : variant === 'torchvision' ? 224 : 32,
      inChannels: 3,
    },
    classes: classNames(numClasses),
    ...IMAGENET_NORMALIZATION,
    augment: true,
    ...(variant === 'mini' ? {} : { resize: 256 }),
  };
}

/** ImageNet's class names for 1000 classes, `class <i>` otherwise. */
function classNames(count: number): string[] {
  return count === IMAGENET_CLASSES.length
    ? [...IMAGENET_CLASSES]
    : Array.from({ length: count }, (_, i) => `class ${i}`);
}

/** The weights of a file and the config to use them with: its metadata's, or inferred. */
export interface WeightsFile {
  tensors: Map<string, Tensor>;
  config: ModelConfig;
  /** True when the config came from the file's gpunet metadata. */
  hasMetadata: boolean;
}

/**
 * Reads a weights file (`.safetensors` from this CLI, a PyTorch `.pth`, or an `.onnx`). Without
 * gpunet metadata the config is the variant's default with the class count, layer widths and
 * input channels read off the tensors' shapes (`inferModel`: so a narrow torchvision-layout
 * checkpoint loads too); an ONNX file's model is read from its graph.
 */
export async function readWeightsFile(
  path: string,
  options: LoadModelOptions = {},
): Promise<WeightsFile> {
  if (!existsSync(path)) throw new CliError(`--weights ${path}: no such file`);
  if (path.endsWith('.onnx')) {
    // An ONNX graph's initializers are named by its exporter: the model built from the graph
    // gives them their state-dict keys.
    const { model, config, hasMetadata } = await loadOnnxModel(path, options);
    return { tensors: model.stateDict(), config, hasMetadata };
  }
  const file = await loadWeights(path).catch((error: Error) => {
    throw new CliError(`--weights ${error.message}`);
  });
  const text = file.metadata[METADATA_KEY];
  if (text !== undefined)
    return { tensors: file.tensors, config: JSON.parse(text) as ModelConfig, hasMetadata: true };
  // The shapes say which AlexNet it is and how wide; fc8's bias, how many classes.
  const inferred = inferModel(file.tensors, options.variant) ?? {
    variant: options.variant ?? 'torchvision',
  };
  const config = configFor({
    ...inferred,
    ...(options.numClasses ? { numClasses: options.numClasses } : {}),
  });
  return { tensors: file.tensors, config, hasMetadata: false };
}

/** Writes the model's weights with its config to a `.safetensors` file (atomically). */
export async function saveModel(path: string, model: AlexNet, config: ModelConfig): Promise<void> {
  const bytes = await writeSafetensors(model.stateDict(), {
    [METADATA_KEY]: JSON.stringify(config),
  });
  await writeFileAtomic(path, bytes);
}

/** Options of `loadModel` for files without the CLI's metadata (`.pth`, foreign safetensors). */
export interface LoadModelOptions {
  /** Used when the file has no config: the `--model` flag. */
  variant?: 'paper' | 'torchvision' | 'mini';
  /** Overrides the class count of a file without config. */
  numClasses?: number;
}

/** Module paths of conv1..conv5 and fc6 in each variant's state dict. */
const LAYOUT = {
  paper: { convs: [0, 4, 8, 10, 12], fc6: 'classifier.0' },
  mini: { convs: [0, 4, 8, 10, 12], fc6: 'classifier.0' },
  torchvision: { convs: [0, 3, 6, 8, 10], fc6: 'classifier.1' },
} as const;

/**
 * The model a state dict without config holds, read from its shapes: the variant (conv2 at
 * `features.3` is torchvision's layout; at `features.4`, an 11x11 conv1 is the paper's and a
 * smaller one the mini's, unless `variant` says), conv widths, input channels, fc6/fc7 width and
 * classes. Null when the keys are not an AlexNet's (loading then reports what is missing).
 */
export function inferModel(
  tensors: StateDict,
  variant?: AlexNetVariant,
): (Partial<ModelConfig['model']> & { variant: AlexNetVariant }) | null {
  const conv1 = tensors.get('features.0.weight');
  if (conv1?.rank !== 4) return null;
  const guessed: AlexNetVariant = tensors.has('features.3.weight')
    ? 'torchvision'
    : conv1.shape[2] === 11
      ? 'paper'
      : 'mini';
  const chosen = variant ?? guessed;
  const layout = LAYOUT[chosen];
  const widths = layout.convs.map((i) => tensors.get(`features.${i}.weight`)?.shape[0]);
  const fc6 = tensors.get(`${layout.fc6}.weight`);
  const fc8 = tensors.get('classifier.6.bias');
  if (widths.some((w) => w === undefined) || !fc6 || !fc8) return { variant: chosen };
  const [c1, c2, c3, c4, c5] = widths as number[];
  return {
    variant: chosen,
    channels: [c1, c2, c3, c4, c5],
    inChannels: conv1.shape[1],
    hidden: fc6.shape[0],
    numClasses: fc8.shape[0],
  };
}

/** The config of a model read from a file without one: the variant's defaults, sized to the model. */
function configFor(options: AlexNetOptions & { variant: AlexNetVariant }): ModelConfig {
  const config = defaultConfig(options.variant);
  const { numClasses } = options;
  config.model = {
    ...config.model,
    ...(options.channels ? { channels: options.channels } : {}),
    ...(options.hidden ? { hidden: options.hidden } : {}),
    ...(options.inChannels ? { inChannels: options.inChannels } : {}),
    ...(options.inputSize ? { inputSize: options.inputSize } : {}),
    ...(options.lrn ? { lrn: options.lrn } : {}),
    ...(options.ceilMode ? { ceilMode: options.ceilMode } : {}),
  };
  if (numClasses !== undefined && numClasses !== config.model.numClasses) {
    config.model.numClasses = numClasses;
    config.classes = classNames(numClasses);
  }
  return config;
}

/** Reads an `.onnx` file (exported by gpunet, PyTorch, or Caffe's zoo model) into a new model. */
async function loadOnnxModel(
  path: string,
  options: LoadModelOptions,
): Promise<{ model: AlexNet; config: ModelConfig; hasMetadata: boolean }> {
  const file = await loadWeights(path).catch((error: Error) => {
    throw new CliError(`--weights ${error.message}`);
  });
  const graph = file.onnx;
  if (!graph) throw new CliError(`--weights ${path}: no ONNX graph`);
  let model: AlexNet;
  try {
    model = alexnetFromOnnx(graph);
  } catch (error) {
    throw new CliError(`--weights ${path}: ${(error as Error).message}`);
  } finally {
    for (const t of file.tensors.values()) t.dispose();
  }
  const o = model.options;
  if (options.variant && options.variant !== o.variant) {
    for (const p of model.parameters()) p.dispose();
    throw new CliError(
      `--model ${options.variant}, but --weights ${path} holds a ${o.variant} AlexNet`,
    );
  }
  const text = file.metadata[METADATA_KEY];
  const config: ModelConfig = text
    ? (JSON.parse(text) as ModelConfig)
    : configFor({ ...o, numClasses: options.numClasses ?? o.numClasses });
  config.model = {
    variant: o.variant,
    numClasses: o.numClasses,
    inputSize: o.inputSize,
    inChannels: o.inChannels,
    channels: o.channels,
    hidden: o.hidden,
    ...(o.variant === 'torchvision' ? {} : { lrn: o.lrn }),
    ...(o.ceilMode ? { ceilMode: true } : {}),
  };
  return { model, config, hasMetadata: text !== undefined };
}

/** Reads weights (`.safetensors` from this CLI, a PyTorch `.pth`, or an `.onnx`) into a new model. */
export async function loadModel(
  path: string,
  options: LoadModelOptions = {},
): Promise<{ model: AlexNet; config: ModelConfig }> {
  if (path.endsWith('.onnx')) {
    if (!existsSync(path)) throw new CliError(`--weights ${path}: no such file`);
    return loadOnnxModel(path, options);
  }
  const file = await readWeightsFile(path, options);
  const config = file.config;
  const model = alexnet({ ...config.model, init: 'pytorch' });
  try {
    model.loadStateDict(file.tensors);
  } catch (error) {
    for (const p of model.parameters()) p.dispose();
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(
      `--weights ${path} does not fit the ${config.model.variant} model (${config.model.numClasses} classes, ${config.model.inChannels}x${config.model.inputSize}x${config.model.inputSize}): ${message}`,
    );
  } finally {
    for (const t of file.tensors.values()) t.dispose();
  }
  model.eval();
  return { model, config };
}
