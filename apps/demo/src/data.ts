/**
 * `--data` specifications: `synthetic`, `idx:<dir>`, `cifar10:<dir>` and `imagefolder:<dir>`,
 * turned into a training and a validation dataset with the shape facts the model adapts to.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  Cifar10,
  centerCrop,
  compose,
  type Dataset,
  type ImageDataset,
  ImageFolder,
  Mnist,
  normalize,
  type RawSample,
  randomCrop,
  randomHorizontalFlip,
  resize,
  type Sample,
  type SampleContext,
  SYNTHETIC_CLASSES,
  SyntheticImages,
  type Transform,
  toTensor,
} from '@gpunet/data';
import { CliError } from './errors.js';

/** What a `--data` spec names, before transforms are chosen. */
export interface DataSource {
  /** The spec as given, e.g. `idx:./mnist`. */
  spec: string;
  kind: 'synthetic' | 'idx' | 'cifar10' | 'imagefolder';
  classes: readonly string[];
  /** Channels of the decoded images (1 for IDX, 3 otherwise). */
  channels: number;
  /** Natural image side: the model input for `--model mini` (28 MNIST, 32 CIFAR and synthetic). */
  size: number;
  /** Builds a split with a transform. */
  open(split: 'train' | 'val', transform: Transform): ImageDataset;
  /**
   * Image folders only: every file once (the training folder first), for the first pass that
   * decodes them all; and the files `open` leaves out (the undecodable ones it found).
   */
  files?: { scan(transform: Transform): ImageDataset[]; exclude: Set<string> };
}

/** Options of the synthetic task. */
export interface SyntheticOptions {
  trainLength?: number;
  valLength?: number;
  numClasses?: number;
  size?: number;
}

function requireDir(kind: string, dir: string): string {
  if (dir === '') throw new CliError(`--data ${kind}: needs a directory, as ${kind}:<dir>`);
  if (!existsSync(dir)) throw new CliError(`--data ${kind}:${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw new CliError(`--data ${kind}:${dir}: not a directory`);
  return dir;
}

/** Every `stride`-th sample (offset `offset`) of an image dataset, keeping its reader for workers. */
class EveryNth implements ImageDataset {
  readonly length: number;
  constructor(
    private readonly base: ImageDataset,
    private readonly indices: number[],
  ) {
    this.length = indices.length;
  }
  get classes(): readonly string[] {
    return this.base.classes;
  }
  get transform(): Transform | undefined {
    return this.base.transform;
  }
  read(index: number): Promise<RawSample> {
    return this.base.read(this.indices[index] as number);
  }
  get(index: number, context?: SampleContext): Promise<Sample> {
    return this.base.get(this.indices[index] as number, context);
  }
}

function holdOut(base: ImageDataset, split: 'train' | 'val'): ImageDataset {
  const indices: number[] = [];
  for (let i = 0; i < base.length; i++) if ((i % 10 === 9) === (split === 'val')) indices.push(i);
  return new EveryNth(base, indices);
}

/** Parses a `--data` value. Errors name the spec and what is wrong with it. */
export function parseDataSpec(spec: string, synthetic: SyntheticOptions = {}): DataSource {
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const dir = colon < 0 ? '' : spec.slice(colon + 1);
  switch (kind) {
    case 'synthetic': {
      // `synthetic:train=512,val=128,classes=4,size=32` overrides the sizes of the task.
      const given = { ...synthetic };
      for (const pair of dir === '' ? [] : dir.split(',')) {
        const [key, value] = pair.split('=');
        const n = Number(value);
        const field = {
          train: 'trainLength',
          val: 'valLength',
          classes: 'numClasses',
          size: 'size',
        }[key ?? ''] as keyof SyntheticOptions | undefined;
        if (!field || !Number.isInteger(n) || n <= 0) {
          throw new CliError(
            `--data ${spec}: '${pair}' is not one of train=<n>, val=<n>, classes=<n>, size=<n>`,
          );
        }
        given[field] = n;
      }
      synthetic = given;
      const numClasses = synthetic.numClasses ?? 8;
      if (numClasses < 2 || numClasses > SYNTHETIC_CLASSES.length)
        throw new CliError(`--data ${spec}: classes must be 2..${SYNTHETIC_CLASSES.length}`);
      const size = synthetic.size ?? 32;
      return {
        spec,
        kind,
        classes: SYNTHETIC_CLASSES.slice(0, numClasses),
        channels: 3,
        size,
        open: (split, transform) =>
          new SyntheticImages({
            length:
              split === 'train' ? (synthetic.trainLength ?? 2048) : (synthetic.valLength ?? 512),
            numClasses,
            size,
            seed: split === 'train' ? 1 : 2,
            transform,
          }),
      };
    }
    case 'idx': {
      const root = requireDir(kind, dir);
      const probe = new Mnist(root, { train: true });
      return {
        spec,
        kind,
        classes: probe.classes,
        channels: 1,
        size: 28,
        open: (split, transform) => new Mnist(root, { train: split === 'train', transform }),
      };
    }
    case 'cifar10': {
      const root = requireDir(kind, dir);
      const probe = new Cifar10(root, { train: false });
      return {
        spec,
        kind,
        classes: probe.classes,
        channels: 3,
        size: 32,
        open: (split, transform) => new Cifar10(root, { train: split === 'train', transform }),
      };
    }
    case 'imagefolder': {
      const root = requireDir(kind, dir);
      // `<dir>/train` and `<dir>/val` when both exist; otherwise every 10th image is held out.
      const split = existsSync(join(root, 'train')) && existsSync(join(root, 'val'));
      const probe = new ImageFolder(split ? join(root, 'train') : root);
      if (split) {
        const val = new ImageFolder(join(root, 'val'));
        if (val.classes.join('\n') !== probe.classes.join('\n')) {
          throw new CliError(
            `--data ${spec}: train/ and val/ have different class folders (${probe.classes.join(', ')} vs ${val.classes.join(', ')})`,
          );
        }
      }
      const exclude = new Set<string>();
      return {
        spec,
        kind,
        classes: probe.classes,
        channels: 3,
        size: 64,
        open: (which, transform) =>
          split
            ? new ImageFolder(join(root, which), { transform, exclude })
            : holdOut(new ImageFolder(root, { transform, exclude }), which),
        files: {
          scan: (transform) =>
            split
              ? [
                  new ImageFolder(join(root, 'train'), { transform }),
                  new ImageFolder(join(root, 'val'), { transform }),
                ]
              : [new ImageFolder(root, { transform })],
          exclude,
        },
      };
    }
    default:
      throw new CliError(
        `--data '${spec}': expected synthetic[:train=<n>,val=<n>,classes=<n>,size=<n>], idx:<dir>, cifar10:<dir> or imagefolder:<dir>`,
      );
  }
}

/** Per-channel mean and standard deviation of up to `limit` images in [0, 1], for `normalize`. */
export async function channelStats(
  dataset: Dataset<Sample>,
  limit = 500,
): Promise<{ mean: number[]; std: number[] }> {
  const count = Math.min(limit, dataset.length);
  const stride = dataset.length / count;
  let sums: number[] = [];
  let squares: number[] = [];
  let pixels = 0;
  for (let k = 0; k < count; k++) {
    const { image } = await dataset.get(Math.floor(k * stride));
    if (Array.isArray(image)) throw new Error('channelStats: expected one image per sample');
    const { channels, width, height, data, layout } = image;
    if (sums.length === 0) {
      sums = new Array(channels).fill(0);
      squares = new Array(channels).fill(0);
    }
    const plane = width * height;
    const [pixelStride, channelStride] = layout === 'hwc' ? [channels, 1] : [1, plane];
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let q = 0;
      for (let p = 0; p < plane; p++) {
        const v = data[c * channelStride + p * pixelStride] as number;
        s += v;
        q += v * v;
      }
      sums[c] = (sums[c] as number) + s;
      squares[c] = (squares[c] as number) + q;
    }
    pixels += plane;
  }
  const mean = sums.map((s) => s / pixels);
  const std = squares.map((q, c) =>
    Math.sqrt(Math.max(q / pixels - (mean[c] as number) ** 2, 1e-6)),
  );
  return { mean, std };
}

/** How images become model inputs: size, augmentation and normalization. */
export interface Preprocessing {
  size: number;
  mean: number[];
  std: number[];
  /** Random crops and flips while training (not for digits, whose mirror images are other symbols). */
  augment: boolean;
  /** The shorter side before cropping (256 for ImageNet weights); default 8/7 of `size`. */
  resize?: number;
}

/**
 * How images become model inputs. With augmentation (every kind but digits) this is the paper's
 * scheme: resize the short side to `pre.resize` (default 8/7 of the input: 256 for 224), then a
 * random crop and flip to train, the centre crop to evaluate, and for 10-crop evaluation the
 * central square of that side (the paper's 256x256 image, section 2), which `evaluate` cuts
 * into the ten crops. Digits are
 * used at their own size, unflipped (a mirrored digit is another symbol).
 */
export function transformFor(
  source: DataSource,
  pre: Preprocessing,
  mode: 'train' | 'eval' | 'ten',
): Transform {
  const steps: Transform[] = [];
  if (pre.augment) {
    const side = pre.resize ?? scaledSize(pre.size);
    steps.push(resize(side));
    if (mode === 'train') steps.push(randomCrop(pre.size), randomHorizontalFlip());
    if (mode === 'eval') steps.push(centerCrop(pre.size));
    if (mode === 'ten') steps.push(centerCrop(side));
  } else if (source.kind === 'imagefolder' || source.size !== pre.size) {
    steps.push(resize(pre.size), centerCrop(pre.size));
  }
  steps.push(toTensor());
  // Without statistics yet (while computing them), the images stay in [0, 1].
  if (pre.mean.length > 0) steps.push(normalize({ mean: pre.mean, std: pre.std }));
  return compose(steps);
}

/** The side images are resized to before cropping: 8/7 of the input, as 256 is of 224. */
export function scaledSize(size: number): number {
  return Math.round((size * 8) / 7);
}
