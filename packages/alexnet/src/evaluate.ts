import type { Module } from '@gpunet/layers';
import { add, flip, noGrad, slice, softmax, type Tensor, tidy } from '@gpunet/tensor';

/** One batch: images `[N, C, H, W]` float32 and integer labels `[N]`. */
export interface Batch {
  images: Tensor;
  labels: Tensor;
}

/**
 * Anything that yields batches, sync or async: an array, a generator, or `@gpunet/data`'s
 * `DataLoader` (`for await (const { images, labels } of loader)`). Iterated once per epoch.
 */
export type BatchSource = Iterable<Batch> | AsyncIterable<Batch>;

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /**
   * 'center' (default): one centre crop of `cropSize`. 'ten': the paper's test-time
   * augmentation (section 4.1): the four corner crops, the centre crop and their horizontal
   * flips, averaging the softmax over the ten.
   */
  crops?: 'center' | 'ten';
  /** Side of the square crops. Default: the images' own size for 'center' (no crop); required for 'ten' unless the images are larger than the model's input (then the model's `options.inputSize`). */
  cropSize?: number;
  /** Dispose each batch's tensors after use. Default true. */
  disposeBatches?: boolean;
}

/** Accuracy and loss over a whole data set. */
export interface EvaluationResult {
  /** Fraction of images whose label has the highest probability. */
  top1: number;
  /**
   * Fraction of images whose label is among the five most probable classes; null when the model
   * has 5 classes or fewer, where every label is (a meaningless 100%).
   */
  top5: number | null;
  /** Mean negative log of the (crop-averaged) probability of the label. */
  loss: number;
  /** Images evaluated. */
  count: number;
  /**
   * Per class, index = label: its images, and the top-1 and top-5 accuracy among them (null for
   * a class without images, and top-5 null as above).
   */
  perClass: ClassAccuracy[];
}

/** One class's line of `EvaluationResult.perClass`. */
export interface ClassAccuracy {
  count: number;
  top1: number | null;
  top5: number | null;
}

/** The top-left corners of the crops, in order: centre, then the four corners. */
function cropOrigins(
  height: number,
  width: number,
  size: number,
  kind: 'center' | 'ten',
): [number, number][] {
  const centre: [number, number] = [
    Math.floor((height - size) / 2),
    Math.floor((width - size) / 2),
  ];
  if (kind === 'center') return [centre];
  return [centre, [0, 0], [0, width - size], [height - size, 0], [height - size, width - size]];
}

/**
 * `[N, C, H, W]` mirrored left-right (the last axis reversed), on the images' backend: the
 * tensor op `flip(images, -1)`, so it reads nothing back and runs on the asynchronous backends.
 */
export function flipHorizontal(images: Tensor): Tensor {
  return flip(images, -1);
}

/**
 * The softmax of `model` over `images`, averaged over the crops `options.crops` asks for:
 * `[N, numClasses]`. Runs under `noGrad`; the caller sets eval mode.
 */
export function cropAveragedProbabilities(
  model: Module,
  images: Tensor,
  crops: 'center' | 'ten',
  cropSize: number,
): Tensor {
  const [n, c, h, w] = images.shape as [number, number, number, number];
  if (cropSize > h || cropSize > w) {
    throw new RangeError(`evaluate: cropSize ${cropSize} is larger than the ${h}x${w} images`);
  }
  return noGrad(() =>
    tidy(() => {
      let sum: Tensor | null = null;
      let views = 0;
      for (const [top, left] of cropOrigins(h, w, cropSize, crops)) {
        const crop =
          cropSize === h && cropSize === w
            ? images
            : slice(images, [0, 0, top, left], [n, c, cropSize, cropSize]);
        const versions = crops === 'ten' ? [crop, flipHorizontal(crop)] : [crop];
        for (const view of versions) {
          const p = softmax(model.call(view), 1);
          sum = sum === null ? p : add(sum, p);
          views++;
        }
      }
      // sum is set: cropOrigins returns at least one origin.
      return (sum as Tensor).div(views);
    }),
  );
}

/** How many classes of row `row` are strictly more probable than `label` (ties count in its favour). */
function rankOf(
  probabilities: ArrayLike<number>,
  row: number,
  label: number,
  numClasses: number,
): number {
  const p = probabilities[row * numClasses + label] as number;
  let rank = 0;
  for (let j = 0; j < numClasses; j++)
    if ((probabilities[row * numClasses + j] as number) > p) rank++;
  return rank;
}

/** Counts how many of `labels` rank within the top 1 and top 5 of each row of `probabilities`. */
export function topKCounts(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
): { top1: number; top5: number; nll: number } {
  let top1 = 0;
  let top5 = 0;
  let nll = 0;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    const p = probabilities[i * numClasses + label] as number;
    const rank = rankOf(probabilities, i, label, numClasses);
    if (rank < 1) top1++;
    if (rank < 5) top5++;
    nll -= Math.log(Math.max(p, 1e-30));
  }
  return { top1, top5, nll };
}

/**
 * Top-1 and top-5 accuracy (top-5 only with more than 5 classes), loss and per-class accuracy
 * of `model` over every batch of `source`, in eval mode
 * (dropout off; the previous mode is restored). With `crops: 'ten'` it is the paper's 10-crop
 * test (section 4.1): the softmax averaged over the corners, the centre and their mirrors.
 */
export async function evaluate(
  model: Module,
  source: BatchSource,
  options: EvaluateOptions = {},
): Promise<EvaluationResult> {
  const crops = options.crops ?? 'center';
  const disposeBatches = options.disposeBatches ?? true;
  const wasTraining = model.isTraining;
  model.eval();
  let top1 = 0;
  let top5 = 0;
  let nll = 0;
  let count = 0;
  let numClasses = 0;
  // Per label: images, top-1 hits, top-5 hits.
  const perClass: [number, number, number][] = [];
  try {
    for await (const { images, labels } of source) {
      const side = images.shape[2] as number;
      const modelSize = (model as { options?: { inputSize?: number } }).options?.inputSize;
      const cropSize =
        options.cropSize ?? (modelSize !== undefined && modelSize < side ? modelSize : side);
      const probabilities = cropAveragedProbabilities(model, images, crops, cropSize);
      numClasses = probabilities.shape[1] as number;
      const values = await probabilities.data();
      const labelValues = await labels.data();
      const counts = topKCounts(values, labelValues, numClasses);
      probabilities.dispose();
      while (perClass.length < numClasses) perClass.push([0, 0, 0]);
      for (let i = 0; i < labelValues.length; i++) {
        const label = labelValues[i] as number;
        const line = perClass[label] as [number, number, number];
        const rank = rankOf(values, i, label, numClasses);
        line[0]++;
        if (rank < 1) line[1]++;
        if (rank < 5) line[2]++;
      }
      top1 += counts.top1;
      top5 += counts.top5;
      nll += counts.nll;
      count += labels.size;
      if (disposeBatches) {
        images.dispose();
        labels.dispose();
      }
    }
  } finally {
    model.train(wasTraining);
  }
  if (count === 0) throw new RangeError('evaluate: the source yielded no images');
  const hasTop5 = numClasses > 5;
  return {
    top1: top1 / count,
    top5: hasTop5 ? top5 / count : null,
    loss: nll / count,
    count,
    perClass: perClass.map(([n, one, five]) => ({
      count: n,
      top1: n > 0 ? one / n : null,
      top5: n > 0 && hasTop5 ? five / n : null,
    })),
  };
}
