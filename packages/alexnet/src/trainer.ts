import type { Module } from '@gpunet/layers';
import type { BaseOptions, Optimizer, ReduceLROnPlateau } from '@gpunet/optim';
import { argmax, crossEntropy, dispose, type Generator, type Tensor, tidy } from '@gpunet/tensor';
import { AlexNet } from './alexnet.js';
import type { EpochSummary, TrainingCheckpoint } from './checkpoint.js';
import {
  type BatchSource,
  type EvaluateOptions,
  type EvaluationResult,
  evaluate,
} from './evaluate.js';
import { checkTrainingMemory } from './memory.js';

/** Detail of the `batch` event, sent after every optimizer step. */
export interface BatchEventDetail {
  /** 1-based epoch. */
  epoch: number;
  /** 0-based batch index within the epoch. */
  batch: number;
  /** Mean cross-entropy of the batch. */
  loss: number;
  /** Top-1 accuracy of the batch in [0, 1]. */
  accuracy: number;
  /** Images in the batch. */
  size: number;
  /** Learning rate of the step (first parameter group). */
  lr: number;
}

/** Detail of the `epoch` event, sent after validation, the schedule step and the checkpoint. */
export interface EpochEventDetail extends EpochSummary {
  /** The validation result, when a validation source was given. */
  validation?: EvaluationResult;
}

/** Options of `Trainer` and `train`. */
export interface TrainerOptions {
  /** The model; an `AlexNet`'s own generator is checkpointed as `model`. */
  model: Module;
  /** E.g. `paperOptimizer(model).optimizer`. */
  optimizer: Optimizer<BaseOptions>;
  /** Stepped once per epoch with the validation top-1 error (needs `validation`). */
  scheduler?: ReduceLROnPlateau | null;
  /** Training batches, iterated once per epoch. */
  data: BatchSource;
  /** Validation batches, evaluated after every epoch (top-1 and top-5). */
  validation?: BatchSource;
  /** Evaluation options for the validation pass (centre or 10-crop). */
  evaluateOptions?: EvaluateOptions;
  /** Train until this many epochs are complete (counting resumed ones). */
  epochs: number;
  /**
   * Generators whose state a resume must restore (a loader's shuffling, augmentation), by
   * name. An AlexNet's own generator is added as `model`.
   */
  generators?: Record<string, Generator>;
  /**
   * Called after every epoch with the checkpoint; awaited before training goes on. The
   * tensors are live (the model's and optimizer's): serialize them before returning, e.g. with
   * `@gpunet/alexnet/node`'s `fileCheckpointer(path)`.
   */
  saveCheckpoint?: (checkpoint: TrainingCheckpoint) => Promise<void> | void;
  /** Called after every batch (also sent as the `batch` event). */
  onBatch?: (detail: BatchEventDetail) => void;
  /** Called after every epoch (also sent as the `epoch` event). */
  onEpoch?: (detail: EpochEventDetail) => void;
  /** Dispose each training batch's tensors after its step. Default true. */
  disposeBatches?: boolean;
}

/** Thrown when the training loss is NaN or infinite; the weights are not updated with it. */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    message: string,
    /** 1-based epoch. */
    readonly epoch: number,
    /** 0-based batch. */
    readonly batch: number,
    /** The loss value (NaN or +-Infinity). */
    readonly loss: number,
  ) {
    super(message);
  }
}

/**
 * Runs epochs of minibatch SGD over a batch source: forward, cross-entropy, backward, step; then
 * validation (top-1, top-5), the plateau schedule on the validation error and a checkpoint.
 * An `EventTarget`: listen to `batch` and `epoch` (`CustomEvent` with the details), e.g. for
 * progress bars. `resume(checkpoint)` restores model, optimizer, schedule, generators and epoch
 * so that the continued run equals the uninterrupted one exactly. A non-finite loss stops
 * training with a `NonFiniteLossError` before the weights change, leaving the last good
 * checkpoint (the previous epoch's) as it was.
 */
export class Trainer extends EventTarget {
  /** Epochs completed. */
  epoch = 0;
  /** One summary per completed epoch. */
  history: EpochSummary[] = [];
  readonly options: TrainerOptions;
  private readonly generators: Record<string, Generator>;

  constructor(options: TrainerOptions) {
    super();
    this.options = options;
    const own = (options.model as { generator?: unknown }).generator;
    this.generators = { ...options.generators };
    if (own !== undefined && typeof own === 'object' && own !== null && 'getState' in own) {
      this.generators.model ??= own as Generator;
    }
  }

  /** The batch size whose memory estimate was last checked against the backend's limit. */
  private checkedBatch = -1;

  /**
   * Before the first step at a batch size: where the backend has a fixed memory limit (wasm:
   * 4 GiB) and the model is an AlexNet, a batch whose estimate does not fit stops training here,
   * with a `TrainingMemoryError` saying the estimate and the largest batch that fits, instead of
   * failing in the middle of the step.
   */
  private checkMemory(images: Tensor, size: number, batchTensors: Tensor[]): void {
    const { model, optimizer } = this.options;
    const limit = images.backend.memoryLimit?.();
    if (limit === undefined || !(model instanceof AlexNet)) return;
    try {
      checkTrainingMemory(model, size, limit, images.backend.name, optimizer);
    } catch (error) {
      dispose(batchTensors);
      throw error;
    }
  }

  private get lr(): number {
    return this.options.optimizer.paramGroups[0]?.lr ?? Number.NaN;
  }

  /** The state to save after the current epoch (live tensors; serialize before training on). */
  checkpoint(): TrainingCheckpoint {
    const generators = Object.fromEntries(
      Object.entries(this.generators).map(([name, g]) => [name, g.getState()]),
    );
    return {
      epoch: this.epoch,
      model: this.options.model.stateDict(),
      optimizer: this.options.optimizer.stateDict(),
      scheduler: this.options.scheduler?.stateDict() ?? null,
      generators,
      history: this.history.map((h) => ({ ...h })),
    };
  }

  /**
   * Restores a checkpoint (from `checkpoint()` or `decodeCheckpoint`); training continues after
   * its epoch. Data sources with a `setEpoch(epoch)` method (`@gpunet/data`'s `DataLoader`) are
   * set to the checkpoint's epoch, so their per-epoch shuffling continues where it stopped.
   */
  resume(checkpoint: TrainingCheckpoint): this {
    this.options.model.loadStateDict(checkpoint.model);
    this.options.optimizer.loadStateDict(checkpoint.optimizer);
    if (this.options.scheduler && checkpoint.scheduler) {
      this.options.scheduler.loadStateDict(checkpoint.scheduler);
    }
    for (const [name, generator] of Object.entries(this.generators)) {
      const state = checkpoint.generators[name];
      if (!state) {
        throw new Error(
          `Trainer.resume: the checkpoint has no state for generator '${name}' (it has ${Object.keys(checkpoint.generators).join(', ') || 'none'})`,
        );
      }
      generator.setState(state);
    }
    this.epoch = checkpoint.epoch;
    this.history = checkpoint.history.map((h) => ({ ...h }));
    // Loaders that seed each epoch from its number (@gpunet/data's DataLoader) must run the
    // epoch the checkpoint stopped before, not their own count from 0.
    for (const source of [this.options.data, this.options.validation]) {
      const loader = source as { setEpoch?: unknown } | undefined;
      if (typeof loader?.setEpoch === 'function') loader.setEpoch(checkpoint.epoch);
    }
    return this;
  }

  /** Trains until `options.epochs` epochs are complete; returns the history. */
  async run(): Promise<EpochSummary[]> {
    while (this.epoch < this.options.epochs) await this.runEpoch();
    return this.history;
  }

  /** One epoch: training, validation, schedule, checkpoint, events. */
  async runEpoch(): Promise<EpochEventDetail> {
    const { model, optimizer, scheduler } = this.options;
    const disposeBatches = this.options.disposeBatches ?? true;
    const epoch = this.epoch + 1;
    const lr = this.lr;
    model.train();
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    let batch = 0;
    for await (const { images, labels } of this.options.data) {
      const size = labels.size;
      if (size !== this.checkedBatch) {
        this.checkMemory(images, size, disposeBatches ? [images, labels] : []);
        this.checkedBatch = size;
      }
      // Forward and backward, then the loss and predictions read with `await`, so that the
      // backends without synchronous reads (webgpu) train too. The step comes
      // after the check: a NaN must never reach the weights.
      const [lossTensor, predictedTensor] = tidy(() => {
        const logits = model.call(images);
        const lossTensor = crossEntropy(logits, labels);
        lossTensor.backward();
        return [lossTensor, argmax(logits, 1)];
      });
      const loss = (await lossTensor.data())[0] as number;
      const predicted = await predictedTensor.data();
      const truth = await labels.data();
      dispose([lossTensor, predictedTensor]);
      let right = 0;
      for (let i = 0; i < size; i++) if (predicted[i] === truth[i]) right++;
      if (!Number.isFinite(loss)) {
        optimizer.zeroGrad();
        if (disposeBatches) {
          images.dispose();
          labels.dispose();
        }
        const last = this.epoch > 0 ? `epoch ${this.epoch}` : 'none (no epoch completed)';
        throw new NonFiniteLossError(
          `train: the loss is ${loss} at epoch ${epoch}, batch ${batch} (lr ${lr}); stopped before updating the weights. The last good checkpoint is ${last}. Lower the learning rate or check the data.`,
          epoch,
          batch,
          loss,
        );
      }
      optimizer.step();
      optimizer.zeroGrad();
      if (disposeBatches) {
        images.dispose();
        labels.dispose();
      }
      lossSum += loss * size;
      correct += right;
      count += size;
      const detail: BatchEventDetail = { epoch, batch, loss, accuracy: right / size, size, lr };
      this.options.onBatch?.(detail);
      this.dispatchEvent(new CustomEvent('batch', { detail }));
      batch++;
    }
    if (count === 0) throw new RangeError('train: the data source yielded no batches');
    const summary: EpochEventDetail = {
      epoch,
      trainLoss: lossSum / count,
      trainAccuracy: correct / count,
      lr,
    };
    if (this.options.validation) {
      const validation = await evaluate(
        model,
        this.options.validation,
        this.options.evaluateOptions,
      );
      Object.assign(summary, {
        valTop1: validation.top1,
        // Absent with 5 classes or fewer, where top-5 means nothing.
        ...(validation.top5 === null ? {} : { valTop5: validation.top5 }),
        valLoss: validation.loss,
        validation,
      });
      // The paper: divide the lr by 10 when the validation error rate stops improving.
      scheduler?.step(1 - validation.top1);
    }
    this.epoch = epoch;
    const { validation: _validation, ...record } = summary;
    this.history.push(record);
    if (this.options.saveCheckpoint) {
      const checkpoint = this.checkpoint();
      try {
        await this.options.saveCheckpoint(checkpoint);
      } finally {
        // The optimizer's state dict holds detached copies; the model's tensors are live.
        for (const state of Object.values(checkpoint.optimizer.state)) {
          for (const v of Object.values(state)) if (typeof v !== 'number') v.dispose();
        }
      }
    }
    this.options.onEpoch?.(summary);
    this.dispatchEvent(new CustomEvent('epoch', { detail: summary }));
    return summary;
  }
}

/** Builds a `Trainer`, optionally resumes it from `resume`, and runs it; returns the history. */
export async function train(
  options: TrainerOptions & { resume?: TrainingCheckpoint },
): Promise<EpochSummary[]> {
  const trainer = new Trainer(options);
  if (options.resume) trainer.resume(options.resume);
  return trainer.run();
}
