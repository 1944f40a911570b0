import { noGrad, reshape, softmax, type Tensor, tidy } from '@gpunet/tensor';
import type { AlexNet } from './alexnet.js';
import { IMAGENET_CLASSES } from './imagenet-classes.js';

/** One ranked class. */
export interface Prediction {
  /** Class index (fc8 output). */
  index: number;
  /** Its name from `classNames`, or `class <index>` without names. */
  label: string;
  /** Softmax probability in [0, 1]. */
  probability: number;
}

/** Options of `predict`. */
export interface PredictOptions {
  /** How many classes to return, most probable first. Default 5. */
  topK?: number;
  /**
   * Class names by index (length numClasses). Default: `IMAGENET_CLASSES` for a 1000-class
   * model, `class <index>` otherwise.
   */
  classNames?: readonly string[];
}

/** `[C, H, W]` or `[1, C, H, W]` -> `[1, C, H, W]`, checking the model's channels and size. */
function asBatch(model: AlexNet, image: Tensor, op: string): Tensor {
  const { inChannels, inputSize } = model.options;
  const batch = image.rank === 3 ? reshape(image, [1, ...image.shape]) : image;
  const [n, c, h, w] = batch.shape;
  if (batch.rank !== 4 || n !== 1 || c !== inChannels) {
    throw new RangeError(
      `${op}: expected one image [${inChannels}, H, W] or [1, ${inChannels}, H, W], got [${image.shape.join(', ')}]`,
    );
  }
  if (model.options.variant !== 'torchvision' && (h !== inputSize || w !== inputSize)) {
    throw new RangeError(
      `${op}: the '${model.options.variant}' model takes ${inputSize}x${inputSize} images, got ${h}x${w}`,
    );
  }
  return batch;
}

/**
 * Classifies one preprocessed image (`[C, H, W]` or `[1, C, H, W]`, normalized as the model
 * was trained) in eval mode and resolves with the `topK` most probable classes and their softmax
 * probabilities, like TF.js's `mobilenet.classify`. The probabilities are read with
 * `await data()`, so it runs on every backend, the asynchronous one (webgpu)
 * included. The model's train/eval mode is restored before the read.
 */
export async function predict(
  model: AlexNet,
  image: Tensor,
  options: PredictOptions = {},
): Promise<Prediction[]> {
  const topK = options.topK ?? 5;
  const names =
    options.classNames ?? (model.options.numClasses === 1000 ? IMAGENET_CLASSES : undefined);
  if (names && names.length !== model.options.numClasses) {
    throw new RangeError(
      `predict: classNames has ${names.length} names but the model has ${model.options.numClasses} classes`,
    );
  }
  const wasTraining = model.isTraining;
  model.eval();
  let output: Tensor;
  try {
    output = noGrad(() => tidy(() => softmax(model.call(asBatch(model, image, 'predict')), 1)));
  } finally {
    model.train(wasTraining);
  }
  let probabilities: Float32Array;
  try {
    probabilities = (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
  return [...probabilities]
    .map((probability, index) => ({
      index,
      label: names?.[index] ?? `class ${index}`,
      probability,
    }))
    .sort((a, b) => b.probability - a.probability || a.index - b.index)
    .slice(0, topK);
}
