/**
 * The commands other than `train`: the demo story, evaluation, prediction, the layer table,
 * pictures of filters and feature maps, and a quick speed measurement.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  type AlexNet,
  alexnet,
  conv1FilterPicture,
  featureMaps,
  mapTiles,
  paperOptimizer,
  predict,
} from '@gpunet/alexnet';
import {
  centerCrop,
  compose,
  DataLoader,
  decodeImage,
  normalize,
  resize,
  type Transform,
  toTensor,
} from '@gpunet/data';
import { crossEntropy, noGrad, randn, type Tensor, tensor, tidy, zeros } from '@gpunet/tensor';
import { parseDataSpec, scaledSize, transformFor } from './data.js';
import { gridPng, pixelsPng, writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';
import {
  defaultConfig,
  IMAGENET_NORMALIZATION,
  loadModel,
  type ModelConfig,
} from './model-file.js';
import type { Reporter } from './progress.js';
import { runTraining, type TrainOptions } from './train.js';

/** The transform that turns one image file into the model's input. */
export function imageTransform(config: ModelConfig): Transform {
  const size = config.model.inputSize;
  return compose([
    resize(config.augment ? (config.resize ?? scaledSize(size)) : size),
    centerCrop(size),
    toTensor(),
    normalize({ mean: config.mean, std: config.std }),
  ]);
}

/** Reads, decodes and preprocesses an image file into `[C, H, W]`; errors name the file. */
export async function loadImage(path: string, config: ModelConfig): Promise<Tensor> {
  if (!existsSync(path)) throw new CliError(`${path}: no such file`);
  let image: Awaited<ReturnType<typeof decodeImage>>;
  try {
    image = await decodeImage({ bytes: new Uint8Array(await readFile(path)), source: path });
  } catch (error) {
    throw new CliError(`${path}: cannot decode the image (${(error as Error).message})`);
  }
  if (config.model.inChannels === 1 && image.channels === 3) {
    // A grey model: average the colours.
    const grey = new Uint8Array(image.width * image.height);
    for (let p = 0; p < grey.length; p++)
      grey[p] = Math.round(
        (image.data[3 * p]! + image.data[3 * p + 1]! + image.data[3 * p + 2]!) / 3,
      );
    image = { ...image, data: grey, channels: 1 };
  }
  const out = imageTransform(config).apply(image, undefined as never);
  if (Array.isArray(out)) throw new Error('imageTransform made several crops');
  return tensor(out.data as Float32Array, [out.channels, out.height, out.width]);
}

/** `gpunet predict`: the top-k classes of each image. */
export async function predictCommand(
  images: string[],
  options: { weights?: string; model?: string; topK: number },
  report: Reporter,
): Promise<void> {
  if (images.length === 0) throw new CliError('predict: give at least one image path');
  if (!options.weights)
    throw new CliError('predict: --weights <file> is required (.safetensors, .pth or .onnx)');
  const { model, config } = await loadModel(options.weights, {
    variant: options.model as 'paper' | 'torchvision' | 'mini' | undefined,
  });
  for (const path of images) {
    const input = await loadImage(path, config);
    const top = await predict(model, input, { topK: options.topK, classNames: config.classes });
    input.dispose();
    report.json({ image: path, predictions: top });
    report.info(`${path}`);
    for (const p of top)
      report.info(`  ${(100 * p.probability).toFixed(1).padStart(5)}%  ${p.label}`);
  }
}

/** `gpunet summary`: the layer table of a model. */
export async function summaryCommand(
  options: {
    model: string;
    numClasses?: number;
    inputSize?: number;
    inChannels?: number;
    weights?: string;
  },
  report: Reporter,
): Promise<void> {
  if (!['paper', 'torchvision', 'mini'].includes(options.model))
    throw new CliError(`--model '${options.model}': expected paper, torchvision or mini`);
  let model: AlexNet;
  let name = options.model;
  if (options.weights) {
    // The file says which model it is (metadata, ONNX graph or tensor shapes).
    ({ model } = await loadModel(options.weights));
    name = model.options.variant;
  } else {
    const config = defaultConfig(options.model as 'paper' | 'torchvision' | 'mini');
    model = alexnet({
      ...config.model,
      ...(options.numClasses ? { numClasses: options.numClasses } : {}),
      ...(options.inputSize ? { inputSize: options.inputSize } : {}),
      ...(options.inChannels ? { inChannels: options.inChannels } : {}),
      init: 'pytorch',
    });
  }
  const { inChannels, inputSize } = model.options;
  const summary = model.summary([1, inChannels, inputSize, inputSize], {
    print: report.isJson ? null : (text) => report.info(text),
  });
  report.json({ event: 'summary', model: name, ...summary });
  for (const p of model.parameters()) p.dispose();
}

/** `gpunet visualize`: conv1's filters and, given an image, the feature maps of conv1 and conv2. */
export async function visualizeCommand(
  options: { weights?: string; model?: string; image?: string; out: string },
  report: Reporter,
): Promise<string[]> {
  let model: AlexNet;
  let config: ModelConfig;
  if (options.weights) {
    ({ model, config } = await loadModel(options.weights, {
      variant: options.model as 'paper' | 'torchvision' | 'mini' | undefined,
    }));
  } else {
    throw new CliError('visualize: --weights <file> is required');
  }
  const written: string[] = [];
  const filters = join(options.out, 'conv1-filters.png');
  await writeFileAtomic(filters, await pixelsPng(await conv1FilterPicture(model)));
  written.push(filters);
  if (options.image) {
    const input = await loadImage(options.image, config);
    const all = featureMaps(model, input, ['conv1', 'conv2']);
    for (const [layer, maps] of all) {
      const [, c = 0, h = 0, w = 0] = maps.shape;
      const values = (await maps.data()) as Float32Array;
      maps.dispose();
      const path = join(
        options.out,
        `${basename(options.image).replace(/\.[^.]+$/, '')}-${layer}.png`,
      );
      await writeFileAtomic(
        path,
        await gridPng(mapTiles(values, [c, h, w]), { columns: Math.min(16, c) }),
      );
      written.push(path);
    }
    input.dispose();
  }
  report.json({ event: 'visualize', files: written });
  for (const path of written) report.info(`wrote ${path}`);
  return written;
}

/**
 * The loader's images per second through the model's training pipeline (decode, resize the
 * short side, random crop to the input size, flip, normalize, collate at batch 16) over an
 * image folder, with `workers` threads, for about `seconds` (the first batch, which starts the
 * workers, is not timed).
 */
async function loaderSpeed(
  data: string,
  config: ModelConfig,
  workers: number,
  seconds: number,
): Promise<number> {
  const source = parseDataSpec(data);
  if (source.kind !== 'imagefolder')
    throw new CliError(`bench --data ${data}: expected imagefolder:<dir> (a folder of photos)`);
  const pre = {
    size: config.model.inputSize,
    ...IMAGENET_NORMALIZATION,
    augment: true,
    resize: 256,
  };
  const loader = new DataLoader(source.open('train', transformFor(source, pre, 'train')), {
    batchSize: 16,
    shuffle: true,
    numWorkers: workers,
  });
  let images = 0;
  let start = 0;
  try {
    while (true) {
      for await (const { images: batch, labels } of loader) {
        if (start === 0) start = performance.now();
        else images += labels.size;
        batch.dispose();
        labels.dispose();
        if (start > 0 && performance.now() - start > seconds * 1000) break;
      }
      if (performance.now() - start > seconds * 1000) break;
    }
  } finally {
    await loader.close();
  }
  return images / ((performance.now() - start) / 1000);
}

/**
 * `gpunet bench`: images per second of inference (batch 1 and 16) and a training step (batch
 * 16); with `--data imagefolder:<dir>`, the data loader's too, beside them, so one can see
 * whether `--workers` keeps the backend fed.
 */
export async function benchCommand(
  options: { model: string; seconds: number; backend: string; data?: string; workers?: number },
  report: Reporter,
): Promise<Record<string, number>> {
  if (!['paper', 'torchvision', 'mini'].includes(options.model))
    throw new CliError(`--model '${options.model}': expected paper, torchvision or mini`);
  const config = defaultConfig(options.model as 'paper' | 'torchvision' | 'mini');
  const model = alexnet({ ...config.model, init: 'pytorch' });
  const { inChannels, inputSize, numClasses } = model.options;
  const timeIt = async (run: () => Promise<void>): Promise<number> => {
    await run(); // warm-up: compiles kernels, fills caches
    let runs = 0;
    const start = performance.now();
    do {
      await run();
      runs++;
    } while (performance.now() - start < options.seconds * 1000);
    return (performance.now() - start) / 1000 / runs;
  };
  const results: Record<string, number> = {};
  model.eval();
  for (const batch of [1, 16]) {
    const x = randn([batch, inChannels, inputSize, inputSize]);
    const seconds = await timeIt(async () => {
      const y = noGrad(() => tidy(() => model.call(x)));
      await y.data();
      y.dispose();
    });
    x.dispose();
    results[`inference b${batch}`] = batch / seconds;
  }
  model.train();
  const { optimizer } = paperOptimizer(model);
  const x = randn([16, inChannels, inputSize, inputSize]);
  const labels = zeros([16], { dtype: 'int32' });
  const seconds = await timeIt(async () => {
    const loss = tidy(() => {
      const l = crossEntropy(model.call(x), labels);
      l.backward();
      return l;
    });
    optimizer.step();
    optimizer.zeroGrad();
    await loss.data();
    loss.dispose();
  });
  results['train step b16'] = 16 / seconds;
  x.dispose();
  labels.dispose();
  if (options.data) {
    const workers = options.workers ?? 0;
    results[`loader b16, ${workers} workers`] = await loaderSpeed(
      options.data,
      config,
      workers,
      options.seconds,
    );
  }
  report.json({
    event: 'bench',
    model: options.model,
    backend: options.backend,
    imagesPerSecond: results,
    classes: numClasses,
  });
  for (const [name, value] of Object.entries(results))
    report.info(`  ${name.padEnd(22)} ${value.toFixed(2).padStart(9)} img/s`);
  if (options.data) {
    const loader = Object.entries(results).at(-1)?.[1] ?? 0;
    const step = results['train step b16'] ?? 0;
    report.info(
      loader >= step
        ? `  the loader keeps up: ${(loader / step).toFixed(1)}x what a training step consumes`
        : `  the loader is the bottleneck (${(loader / step).toFixed(2)}x a training step's rate): add --workers`,
    );
  }
  report.info(
    'Peers side by side (TF.js, onnxruntime, PyTorch): pnpm bench (see docs/benchmarks.md)',
  );
  return results;
}

/** The demo's options (`gpunet demo`). */
export interface DemoOptions {
  out: string;
  epochs: number;
  workers: number;
  seed: number;
}

/**
 * `gpunet demo`: trains the mini AlexNet on the generated shapes task, validating each epoch,
 * writing the checkpoint, the curves and the conv1 filters, then classifies held-out images.
 */
export async function demoCommand(options: DemoOptions, report: Reporter): Promise<void> {
  const train: TrainOptions = {
    model: 'mini',
    data: 'synthetic',
    epochs: options.epochs,
    batchSize: 32,
    // Half the paper's 0.01: this mini (He init, no batch norm, momentum 0.9) at 0.01 leaves the
    // stable region once it fits the task: the per-batch loss jumps to ~14 and validation top-1
    // falls from ~98% to ~83% in epochs 3-4 before recovering; PyTorch with the same model and
    // data does the same, a warm-up does not prevent it, 0.005 does (docs/demo.md).
    lr: 0.005,
    workers: options.workers,
    seed: options.seed,
    out: options.out,
    synthetic: { trainLength: 4096, valLength: 512, numClasses: 8, size: 32 },
  };
  report.info(
    'Training the mini AlexNet (conv, ReLU, LRN, overlapping pooling, groups, dropout) on 4,096 generated 32x32 images of 8 shapes; validating on 512 others.',
  );
  const result = await runTraining(train, report);
  // Held-out images, classified one by one: validation images 0-7 (the model never trained on them).
  const source = parseDataSpec('synthetic', { ...train.synthetic, valLength: 8 });
  const pre = {
    size: result.config.model.inputSize,
    mean: result.config.mean,
    std: result.config.std,
    augment: result.config.augment,
  };
  const heldOut = source.open('val', transformFor(source, pre, 'eval'));
  const predictions: Record<string, unknown>[] = [];
  report.info('Held-out images:');
  for (let i = 0; i < heldOut.length; i++) {
    const { image, label } = await heldOut.get(i);
    if (Array.isArray(image)) continue;
    const input = tensor(image.data as Float32Array, [image.channels, image.height, image.width]);
    const [best, second] = await predict(result.model, input, {
      topK: 2,
      classNames: result.config.classes,
    });
    input.dispose();
    const truth = result.config.classes[label] ?? String(label);
    predictions.push({ index: i, truth, predicted: best?.label, probability: best?.probability });
    report.info(
      `  #${i} ${truth.padEnd(14)} -> ${String(best?.label).padEnd(14)} ${(100 * (best?.probability ?? 0)).toFixed(1)}%` +
        `${best?.label === truth ? '' : '  (wrong)'}   next: ${second?.label} ${(100 * (second?.probability ?? 0)).toFixed(1)}%`,
    );
  }
  report.json({ event: 'predictions', predictions });
  const last = result.history.at(-1);
  report.json({ event: 'done', files: result.files, valTop1: last?.valTop1 ?? null });
  report.info('');
  report.info(
    `Wrote ${result.files.checkpoint} (resume: gpunet train --model mini --data synthetic --resume ...)`,
  );
  report.info(
    `      ${result.files.model} (weights + preprocessing; gpunet predict --weights ...)`,
  );
  report.info(`      ${result.files.curves} (training curves)`);
  report.info(`      ${result.files.filters} (the learned conv1 filters, as the paper's Figure 3)`);
}
