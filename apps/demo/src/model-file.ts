/**
 * The files a run leaves and the CLI reads back: `model.safetensors` holds the weights and, in its
 * metadata, everything needed to rebuild the model and feed it (options, class names,
 * normalization); PyTorch `.pth` files carry no such metadata, so flags fill it in.
 */
import { existsSync } from 'node:fs';
import { type AlexNet, type AlexNetOptions, alexnet, IMAGENET_CLASSES } from '@gpunet/alexnet';
import { writeSafetensors } from '@gpunet/layers';
import { loadWeights } from '@gpunet/layers/node';
import type { Tensor } from '@gpunet/tensor';
import { writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';

/** What the CLI needs, beyond weights, to use a model. */
export interface ModelConfig {
  model: Required<Pick<AlexNetOptions, 'variant' | 'numClasses' | 'inputSize' | 'inChannels'>> &
    Pick<AlexNetOptions, 'channels' | 'hidden'>;
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

const METADATA_KEY = 'gpunet.demo.model';

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

/** State-dict keys of conv1..conv5 and fc6 by variant (the module paths of `AlexNet.layerPaths`). */
const WIDTH_KEYS = {
  torchvision: [
    'features.0',
    'features.3',
    'features.6',
    'features.8',
    'features.10',
    'classifier.1',
  ],
  paper: ['features.0', 'features.4', 'features.8', 'features.10', 'features.12', 'classifier.0'],
  mini: ['features.0', 'features.4', 'features.8', 'features.10', 'features.12', 'classifier.0'],
} as const;

/** The weights of a file and the config to use them with: its metadata's, or inferred. */
export interface WeightsFile {
  tensors: Map<string, Tensor>;
  config: ModelConfig;
  /** True when the config came from the file's gpunet metadata. */
  hasMetadata: boolean;
}

/**
 * Reads a weights file (`.safetensors` from this CLI, or a PyTorch `.pth`). Without gpunet
 * metadata the config is `defaultConfig(variant)` with the class count, layer widths and input
 * channels read off the tensors' shapes (so a narrow torchvision-layout checkpoint loads too).
 */
export async function readWeightsFile(
  path: string,
  options: LoadModelOptions = {},
): Promise<WeightsFile> {
  if (!existsSync(path)) throw new CliError(`--weights ${path}: no such file`);
  const file = await loadWeights(path).catch((error: Error) => {
    throw new CliError(`--weights ${error.message}`);
  });
  const text = file.metadata[METADATA_KEY];
  if (text !== undefined)
    return { tensors: file.tensors, config: JSON.parse(text) as ModelConfig, hasMetadata: true };
  const variant = options.variant ?? 'torchvision';
  const config = defaultConfig(variant);
  const [conv1, conv2, conv3, conv4, conv5, fc6] = WIDTH_KEYS[variant].map(
    (key) => file.tensors.get(`${key}.weight`)?.shape,
  );
  if (conv1 && conv2 && conv3 && conv4 && conv5 && fc6) {
    config.model.channels = [conv1[0], conv2[0], conv3[0], conv4[0], conv5[0]] as [
      number,
      number,
      number,
      number,
      number,
    ];
    config.model.hidden = fc6[0];
    // conv1's weight is [out, in / groups, k, k] and conv1 has one group.
    config.model.inChannels = conv1[1] ?? 3;
  }
  // fc8's bias says how many classes the file has.
  const fc8 = file.tensors.get('classifier.6.bias');
  const numClasses = options.numClasses ?? fc8?.shape[0] ?? config.model.numClasses;
  config.model.numClasses = numClasses;
  config.classes = classNames(numClasses);
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

/** Reads weights (`.safetensors` from this CLI, or a PyTorch `.pth`) into a new model. */
export async function loadModel(
  path: string,
  options: LoadModelOptions = {},
): Promise<{ model: AlexNet; config: ModelConfig }> {
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
