/**
 * `gpunet train` (and the training half of `gpunet demo`): builds the model for the data, trains
 * it with the paper's recipe, and after every epoch writes the checkpoint, the weights, the
 * curves and the conv1 filters. Ctrl-C stops after the current batch and saves where it stopped.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type AlexNet,
  alexnet,
  type BatchEventDetail,
  conv1FilterPicture,
  disposeCheckpoint,
  type EpochEventDetail,
  freeze,
  loadPretrained,
  NonFiniteLossError,
  paperOptimizer,
  Trainer,
} from '@gpunet/alexnet';
import { loadCheckpoint, saveCheckpoint } from '@gpunet/alexnet/node';
import { DataLoader } from '@gpunet/data';
import { channelStats, parseDataSpec, type SyntheticOptions, transformFor } from './data.js';
import { curvesPng, pixelsPng, writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';
import { firstPass } from './first-pass.js';
import { type ModelConfig, readWeightsFile, saveModel, type WeightsFile } from './model-file.js';
import { type Reporter, TRAINING_FIELDS } from './progress.js';

/** Options of `runTraining` (the flags of `gpunet train`). */
export interface TrainOptions {
  model: 'paper' | 'torchvision' | 'mini';
  data: string;
  epochs: number;
  batchSize: number;
  lr: number;
  workers: number;
  seed: number;
  out: string;
  resume?: string;
  /**
   * Pretrained weights to start from (`.pth`, `.safetensors`): fine-tuning. The head (fc8) is
   * re-initialized when the data has another class count; the weights' preprocessing is kept.
   */
  weights?: string;
  /** Module paths to freeze (`features`, `classifier.1`, ...): not trained, no gradients computed. */
  freeze?: string[];
  /** Leave undecodable images of an image folder out (listed in run.json) instead of stopping. */
  skipBadImages?: boolean;
  /** Sizes of the synthetic task (the demo keeps it small). */
  synthetic?: SyntheticOptions;
}

/** What a finished (or interrupted) run leaves. */
export interface TrainResult {
  model: AlexNet;
  config: ModelConfig;
  history: EpochEventDetail[];
  /** Paths written. */
  files: { checkpoint: string; model: string; curves: string; filters: string; run: string };
  interrupted: boolean;
}

/** The file names a run writes in `--out`. */
export function runFiles(out: string): TrainResult['files'] {
  return {
    checkpoint: join(out, 'checkpoint.safetensors'),
    model: join(out, 'model.safetensors'),
    curves: join(out, 'curves.png'),
    filters: join(out, 'conv1-filters.png'),
    run: join(out, 'run.json'),
  };
}

class Interrupted extends Error {}

function positive(name: string, value: number, integer = true): void {
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new CliError(
      `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`,
    );
  }
}

/** Draws conv1's filters (the paper's Figure 3, for this model) to a PNG file. */
export async function writeFilters(model: AlexNet, path: string): Promise<void> {
  await writeFileAtomic(path, await pixelsPng(await conv1FilterPicture(model)));
}

/** Checks the flags of `gpunet train` (before any slow start-up); throws a CliError naming the bad one. */
export function checkTrainOptions(options: TrainOptions): void {
  positive('--epochs', options.epochs);
  positive('--batch-size', options.batchSize);
  positive('--lr', options.lr, false);
  if (!Number.isInteger(options.workers) || options.workers < 0)
    throw new CliError(`--workers must be an integer >= 0, got ${options.workers}`);
  if (!['paper', 'torchvision', 'mini'].includes(options.model))
    throw new CliError(`--model '${options.model}': expected paper, torchvision or mini`);
  parseDataSpec(options.data, options.synthetic);
  if (options.resume && !existsSync(options.resume))
    throw new CliError(`--resume ${options.resume}: no such file`);
  if (options.weights && !existsSync(options.weights))
    throw new CliError(`--weights ${options.weights}: no such file`);
  if (options.weights && options.resume)
    throw new CliError(
      '--weights and --resume: give one (a checkpoint already holds the weights it resumes from)',
    );
}

/** Trains as the options say; resolves when done, interrupted (Ctrl-C) or stopped by a NaN. */
export async function runTraining(options: TrainOptions, report: Reporter): Promise<TrainResult> {
  checkTrainOptions(options);
  const source = parseDataSpec(options.data, options.synthetic);
  const files = runFiles(options.out);
  await mkdir(options.out, { recursive: true });

  // The model adapts to the data: the mini takes its channels and size from it; the ImageNet
  // variants keep their input size (images are resized) and need colour images.
  const inputSize = options.model === 'mini' ? source.size : options.model === 'paper' ? 227 : 224;
  if (options.model !== 'mini' && source.channels !== 3) {
    throw new CliError(
      `--model ${options.model} takes RGB images, but --data ${options.data} has ${source.channels} channel; use --model mini`,
    );
  }
  const numClasses = source.classes.length;
  let config: ModelConfig;
  let pretrained: WeightsFile | null = null;
  let freezePaths = options.freeze ?? [];
  let pass: Awaited<ReturnType<typeof firstPass>> | null = null;
  if (options.resume) {
    if (!existsSync(options.resume)) throw new CliError(`--resume ${options.resume}: no such file`);
    const runPath = join(dirname(options.resume), 'run.json');
    if (!existsSync(runPath))
      throw new CliError(
        `--resume ${options.resume}: no run.json beside it (written by gpunet train)`,
      );
    const run = JSON.parse(await readFile(runPath, 'utf8')) as {
      config: ModelConfig;
      options?: { freeze?: string[] };
    };
    config = run.config;
    // The optimizer's state is per trainable parameter: the resumed run freezes the same modules.
    if (options.freeze === undefined) freezePaths = run.options?.freeze ?? [];
    if (config.model.variant !== options.model || config.model.numClasses !== numClasses) {
      throw new CliError(
        `--resume ${options.resume}: the checkpoint is a ${config.model.variant} model with ${config.model.numClasses} classes; this run asks for --model ${options.model} with ${numClasses} classes`,
      );
    }
  } else if (options.weights) {
    // Fine-tuning: the weights' own preprocessing (ImageNet's for a torchvision .pth), the
    // folder's classes.
    pretrained = await readWeightsFile(options.weights, { variant: options.model });
    // A file from gpunet train names its variant; a .pth is read as --model says.
    const base = pretrained.config;
    if (base.model.inChannels !== source.channels) {
      throw new CliError(
        `--weights ${options.weights} takes ${base.model.inChannels}-channel images, but --data ${options.data} has ${source.channels}`,
      );
    }
    config = {
      ...base,
      model: { ...base.model, numClasses },
      classes: [...source.classes],
      data: options.data,
      pretrained: options.weights,
    };
  } else {
    const scratch = { size: inputSize, mean: [], std: [], augment: source.kind !== 'idx' };
    // An image folder's statistics come from the first pass, which also checks every file.
    if (source.files)
      pass = await firstPass(
        source,
        scratch,
        { workers: options.workers, withStats: true },
        report,
      );
    const stats =
      pass?.stats ??
      (await channelStats(source.open('train', transformFor(source, scratch, 'eval'))));
    config = {
      model: { variant: options.model, numClasses, inputSize, inChannels: source.channels },
      classes: [...source.classes],
      mean: stats.mean,
      std: stats.std,
      augment: source.kind !== 'idx',
      data: options.data,
    };
  }
  const pre = {
    size: config.model.inputSize,
    mean: config.mean,
    std: config.std,
    augment: config.augment,
    resize: config.resize,
  };
  if (source.files && !pass)
    pass = await firstPass(source, pre, { workers: options.workers, withStats: false }, report);
  const badImages = pass?.bad ?? [];
  if (pass && source.files) {
    report.json({ event: 'images', checked: pass.images + badImages.length, bad: badImages });
    if (badImages.length > 0 && !options.skipBadImages) {
      throw new CliError(
        `--data ${options.data}: ${badImages.length} of ${pass.images + badImages.length} images cannot be decoded (listed below); nothing was trained. Fix or remove them, or pass --skip-bad-images to leave them out`,
        2,
        badImages.map((b) => `${b.file}: ${b.reason}`),
      );
    }
    for (const b of badImages) source.files.exclude.add(b.file);
    report.info(
      `checked ${pass.images + badImages.length} images` +
        (badImages.length > 0
          ? `: left out ${badImages.length} that cannot be decoded (--skip-bad-images; listed in ${files.run})`
          : ': all decode'),
    );
  }
  for (const split of ['train', 'val'] as const) {
    if (source.open(split, transformFor(source, pre, 'eval')).length === 0)
      throw new CliError(
        `--data ${options.data}: no ${split === 'train' ? 'training' : 'validation'} images${badImages.length > 0 ? ` once the ${badImages.length} undecodable ones are left out` : ''} (an image folder without train/ and val/ holds out every 10th image)`,
      );
  }
  const train = new DataLoader(source.open('train', transformFor(source, pre, 'train')), {
    batchSize: options.batchSize,
    shuffle: true,
    seed: options.seed,
    numWorkers: options.workers,
  });
  const validation = new DataLoader(source.open('val', transformFor(source, pre, 'eval')), {
    batchSize: Math.max(options.batchSize, 64),
    numWorkers: options.workers,
  });

  // Fine-tuning re-initializes only the head, as torchvision's recipe does with a new nn.Linear:
  // PyTorch's default init (the variant's own, e.g. the mini's He init, gives logits so large
  // that the first steps undo the pretrained features).
  const model = alexnet({
    ...config.model,
    seed: options.seed,
    ...(pretrained ? { init: 'pytorch' as const } : {}),
  });
  if (pretrained) {
    try {
      const loaded = loadPretrained(model, pretrained.tensors);
      if (loaded.replacedHead)
        report.info(
          `${loaded.head} (the head) replaced: ${loaded.pretrainedClasses} classes in ${options.weights} -> ${numClasses} classes of ${options.data}, re-initialized`,
        );
      report.json({ event: 'pretrained', weights: options.weights, ...loaded });
    } catch (error) {
      throw new CliError(
        `--weights ${options.weights} does not fit the ${config.model.variant} model: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      for (const t of pretrained.tensors.values()) t.dispose();
    }
  }
  if (freezePaths.length > 0) {
    let frozen: number;
    try {
      frozen = freeze(model, freezePaths);
    } catch (error) {
      throw new CliError(`--freeze ${(error as Error).message.replace(/^freeze: /, '')}`);
    }
    const trainable = model
      .parameters()
      .filter((p) => p.requiresGrad)
      .reduce((n, p) => n + p.size, 0);
    if (trainable === 0)
      throw new CliError(`--freeze ${freezePaths.join(' ')}: nothing is left to train`);
    report.info(
      `frozen: ${freezePaths.join(', ')} (${frozen.toLocaleString('en-US')} parameters); training ${trainable.toLocaleString('en-US')}`,
    );
    report.json({ event: 'freeze', modules: freezePaths, frozen, trainable });
  }
  const { optimizer, scheduler } = paperOptimizer(model, { lr: options.lr });
  let interruptRequested = false;
  const onSigint = () => {
    if (interruptRequested) process.exit(130); // a second Ctrl-C does not wait
    interruptRequested = true;
    report.info(
      'Ctrl-C: stopping after this batch and saving a checkpoint (Ctrl-C again to quit now)',
    );
  };
  process.on('SIGINT', onSigint);

  const batchLoss: number[] = [];
  let epochStart = performance.now();
  let seen = 0;
  let correct = 0;
  const batchesPerEpoch = train.length;
  const history: EpochEventDetail[] = [];
  const speed = () => seen / ((performance.now() - epochStart) / 1000);
  let trainSeconds = 0;
  // Time the step spends waiting for the loader's next batch (decoding, augmenting): shown on
  // the bar and reported per epoch, so a starved backend is visible (add --workers).
  let dataWait = 0;
  let waitAtLastEpoch = 0;
  const waitFraction = () => dataWait / 1000 / ((performance.now() - epochStart) / 1000 || 1);
  const timedTrain = {
    // The Trainer sets the loader's epoch on resume (each epoch's shuffle and augmentation come from it).
    setEpoch: (epoch: number) => train.setEpoch(epoch),
    [Symbol.asyncIterator]() {
      const batches = train[Symbol.asyncIterator]();
      return {
        async next() {
          const start = performance.now();
          try {
            return await batches.next();
          } finally {
            dataWait += performance.now() - start;
          }
        },
        async return() {
          return (await batches.return?.()) ?? { done: true as const, value: undefined };
        },
      };
    },
  };

  const trainer = new Trainer({
    model,
    optimizer,
    scheduler,
    data: timedTrain,
    validation,
    epochs: options.epochs,
    saveCheckpoint: async (checkpoint) => {
      await saveCheckpoint(files.checkpoint, checkpoint);
      await saveModel(files.model, model, config);
    },
    onBatch: (b: BatchEventDetail) => {
      if (b.batch === 0) {
        seen = 0;
        correct = 0;
        report.startBar(
          batchesPerEpoch,
          `epoch ${b.epoch}/${options.epochs}`,
          `${TRAINING_FIELDS} | waiting on data {wait}`,
        );
      }
      seen += b.size;
      correct += b.accuracy * b.size;
      batchLoss.push(b.loss);
      if (b.batch === batchesPerEpoch - 1) {
        trainSeconds = (performance.now() - epochStart) / 1000;
        waitAtLastEpoch = dataWait / 1000 / trainSeconds;
      }
      report.updateBar(b.batch + 1, {
        loss: b.loss.toFixed(3),
        accuracy: `${((100 * correct) / seen).toFixed(1)}%`,
        speed: speed().toFixed(1),
        wait: `${Math.round(100 * waitFraction())}%`,
      });
      if (interruptRequested) throw new Interrupted();
    },
    onEpoch: (e) => {
      report.stopBar();
      history.push(e);
      const imagesPerSecond = seen / (trainSeconds || (performance.now() - epochStart) / 1000);
      report.json({
        event: 'epoch',
        epoch: e.epoch,
        loss: e.trainLoss,
        trainTop1: e.trainAccuracy,
        valTop1: e.valTop1 ?? null,
        valTop5: e.valTop5 ?? null,
        valLoss: e.valLoss ?? null,
        lr: e.lr,
        imagesPerSecond,
        dataWaitFraction: waitAtLastEpoch,
        skippedImages: badImages.length,
      });
      report.info(
        `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}, train top-1 ${pct(e.trainAccuracy)}, ` +
          `val top-1 ${pct(e.valTop1)}${e.valTop5 === undefined ? '' : `, top-5 ${pct(e.valTop5)}`}, lr ${e.lr}, ${imagesPerSecond.toFixed(1)} img/s` +
          `${waitAtLastEpoch >= 0.1 ? ` (${Math.round(100 * waitAtLastEpoch)}% of it waiting on data${options.workers === 0 ? '; try --workers 2' : ''})` : ''}` +
          (badImages.length > 0 ? `, ${badImages.length} bad images left out` : ''),
      );
    },
  });
  if (options.resume) {
    const checkpoint = await loadCheckpoint(options.resume).catch((error: Error) => {
      throw new CliError(`--resume ${options.resume}: ${error.message}`);
    });
    try {
      trainer.resume(checkpoint);
    } catch (error) {
      throw new CliError(
        `--resume ${options.resume}: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      disposeCheckpoint(checkpoint);
    }
    report.info(`resumed from ${options.resume} after epoch ${trainer.epoch}`);
  }

  const writeRun = async () => {
    await writeFileAtomic(
      files.run,
      `${JSON.stringify({ config, options: { ...options, synthetic: options.synthetic }, skippedImages: badImages, history: trainer.history }, null, 2)}\n`,
    );
    await writeFileAtomic(
      files.curves,
      await curvesPng({
        history: trainer.history,
        batchLoss,
        title: `${options.model} AlexNet on ${options.data}`,
      }),
    );
    await writeFilters(model, files.filters);
  };

  let interrupted = false;
  try {
    while (trainer.epoch < options.epochs) {
      epochStart = performance.now();
      dataWait = 0;
      await trainer.runEpoch();
      await writeRun();
      if (interruptRequested && trainer.epoch < options.epochs) {
        // Stopped at an epoch boundary: the epoch's checkpoint is already complete and exact.
        interrupted = true;
        report.info(
          `interrupted after epoch ${trainer.epoch}: ${files.checkpoint} is complete (resume with --resume ${files.checkpoint})`,
        );
        report.json({ event: 'interrupted', epoch: trainer.epoch, checkpoint: files.checkpoint });
        break;
      }
    }
  } catch (error) {
    report.stopBar();
    if (error instanceof Interrupted) {
      interrupted = true;
      const path = join(options.out, 'interrupted.safetensors');
      const checkpoint = trainer.checkpoint();
      await saveCheckpoint(path, checkpoint);
      for (const state of Object.values(checkpoint.optimizer.state))
        for (const v of Object.values(state)) if (typeof v !== 'number') v.dispose();
      await writeRun();
      report.info(
        `interrupted in epoch ${trainer.epoch + 1}: saved ${path} (resume with --resume ${path}; it restarts epoch ${trainer.epoch + 1} from these weights)`,
      );
      report.json({ event: 'interrupted', epoch: trainer.epoch, checkpoint: path });
    } else if (error instanceof NonFiniteLossError) {
      const kept = trainer.epoch > 0 ? files.checkpoint : 'none (no epoch completed)';
      throw new CliError(`${error.message} Last good checkpoint: ${kept}`, 1);
    } else {
      throw error;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await train.close();
    await validation.close();
  }
  return { model, config, history, files, interrupted };
}

function pct(value: number | undefined): string {
  return value === undefined ? '-' : `${(100 * value).toFixed(1)}%`;
}
