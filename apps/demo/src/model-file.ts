/**
 * The files a run leaves and the CLI reads back: `model.safetensors` holds the weights and, in its
 * metadata, everything needed to rebuild the model and feed it (options, class names,
 * normalization); PyTorch `.pth` files carry no such metadata, so flags fill it in.
 */
import { existsSync } from 'node:fs';
import { type AlexNet, type AlexNetOptions, alexnet, IMAGENET_CLASSES } from '@gpunet/alexnet';
import { writeSafetensors } from '@gpunet/layers';
import { loadWeights } from '@gpunet/layers/node';
import { writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';

/** What the CLI needs, beyond weights, to use a model. */
export interface ModelConfig {
  model: Required<Pick<AlexNetOptions, 'variant' | 'numClasses' | 'inputSize' | 'inChannels'>>;
  classes: string[];
  mean: number[];
  std: number[];
  /** Trained with the paper's resize-and-crop scheme (then evaluated on centre crops of 8/7 size images). */
  augment: boolean;
  /** The `--data` spec the model was trained on, if any. */
  data?: string;
}

const METADATA_KEY = 'gpunet.demo.model';

/** ImageNet's normalization, as torchvision's pretrained models expect. */
export const IMAGENET_NORMALIZATION = {
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** The defaults for a model given only by `--model` (a 1000-class ImageNet model, RGB). */
export function defaultConfig(variant: 'paper' | 'torchvision' | 'mini'): ModelConfig {
  const numClasses = variant === 'mini' ? 10 : 1000;
  return {
    model: {
      variant,
      numClasses,
      inputSize: variant === 'paper' ? 227 : variant === 'torchvision' ? 224 : 32,
      inChannels: 3,
    },
    classes:
      numClasses === 1000
        ? [...IMAGENET_CLASSES]
        : Array.from({ length: numClasses }, (_, i) => `class ${i}`),
    ...IMAGENET_NORMALIZATION,
    augment: true,
  };
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
  if (!existsSync(path)) throw new CliError(`--weights ${path}: no such file`);
  const file = await loadWeights(path).catch((error: Error) => {
    throw new CliError(`--weights ${error.message}`);
  });
  let config: ModelConfig;
  const text = file.metadata[METADATA_KEY];
  if (text !== undefined) {
    config = JSON.parse(text) as ModelConfig;
  } else {
    config = defaultConfig(options.variant ?? 'torchvision');
    // fc8's bias says how many classes the file has.
    const fc8 = file.tensors.get('classifier.6.bias');
    const numClasses = options.numClasses ?? fc8?.shape[0] ?? config.model.numClasses;
    if (numClasses !== config.model.numClasses) {
      config.model.numClasses = numClasses;
      config.classes = Array.from({ length: numClasses }, (_, i) => `class ${i}`);
    }
  }
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
