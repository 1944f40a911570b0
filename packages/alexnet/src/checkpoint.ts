import { readSafetensors, type StateDict, writeSafetensors } from '@gpunet/layers';
import type { OptimizerStateDict, ParamState, SchedulerStateDict } from '@gpunet/optim';
import type { GeneratorState, Tensor } from '@gpunet/tensor';

/**
 * Everything an exact resume needs after `epoch` completed epochs: the model's parameters, the
 * optimizer's state (momentum buffers, lr), the schedule's counters, the state of every random
 * generator that training draws from (dropout masks, shuffling) and the per-epoch history.
 */
export interface TrainingCheckpoint {
  /** Epochs completed. */
  epoch: number;
  /** Parameters by PyTorch key. */
  model: StateDict;
  optimizer: OptimizerStateDict;
  /** `ReduceLROnPlateau.stateDict()`, or null without a schedule. */
  scheduler: SchedulerStateDict | null;
  /** Generator states by name (`model`: the AlexNet's own generator; others as passed to `Trainer`). */
  generators: Record<string, GeneratorState>;
  /** One entry per completed epoch. */
  history: EpochSummary[];
}

/** What one epoch produced. */
export interface EpochSummary {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean training loss over the epoch's batches (weighted by batch size). */
  trainLoss: number;
  /** Training top-1 accuracy in [0, 1] (dropout on, as trained). */
  trainAccuracy: number;
  /** Validation top-1 accuracy, when a validation loader was given. */
  valTop1?: number;
  /** Validation top-5 accuracy, when a validation loader was given and there are more than 5 classes. */
  valTop5?: number;
  /** Validation loss, when a validation loader was given. */
  valLoss?: number;
  /** Learning rate the epoch ran with (first parameter group). */
  lr: number;
}

const METADATA_KEY = 'gpunet.alexnet.checkpoint';
const FORMAT = 1;

interface CheckpointMetadata {
  format: number;
  epoch: number;
  optimizer: {
    paramGroups: OptimizerStateDict['paramGroups'];
    /** Numeric state entries; tensor entries live in the file as `optimizer.<index>.<name>`. */
    scalars: Record<string, Record<string, number>>;
  };
  scheduler: SchedulerStateDict | null;
  generators: Record<string, GeneratorState>;
  history: EpochSummary[];
}

/**
 * Serializes a checkpoint to one `.safetensors` file's bytes (browser-safe): parameters as
 * `model.<key>`, optimizer buffers as `optimizer.<index>.<name>` and everything else as JSON in
 * the `__metadata__` entry `gpunet.alexnet.checkpoint`. Float32 values are stored bit-exactly,
 * so a resume continues the run exactly.
 */
export async function encodeCheckpoint(checkpoint: TrainingCheckpoint): Promise<Uint8Array> {
  const tensors = new Map<string, Tensor>();
  for (const [key, value] of checkpoint.model) tensors.set(`model.${key}`, value);
  const scalars: Record<string, Record<string, number>> = {};
  for (const [index, state] of Object.entries(checkpoint.optimizer.state)) {
    for (const [name, value] of Object.entries(state as ParamState)) {
      if (typeof value === 'number') {
        scalars[index] ??= {};
        scalars[index][name] = value;
      } else tensors.set(`optimizer.${index}.${name}`, value);
    }
  }
  const metadata: CheckpointMetadata = {
    format: FORMAT,
    epoch: checkpoint.epoch,
    optimizer: { paramGroups: checkpoint.optimizer.paramGroups, scalars },
    scheduler: checkpoint.scheduler,
    generators: checkpoint.generators,
    history: checkpoint.history,
  };
  return writeSafetensors(tensors, { [METADATA_KEY]: JSON.stringify(metadata) });
}

/** Thrown when bytes are not a checkpoint written by `encodeCheckpoint`; says what is missing. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/**
 * Reads bytes from `encodeCheckpoint` back into a `TrainingCheckpoint`. The tensors are new:
 * dispose them (`disposeCheckpoint`) once loaded into a model and optimizer.
 */
export function decodeCheckpoint(bytes: Uint8Array): TrainingCheckpoint {
  const file = readSafetensors(bytes);
  const text = file.metadata[METADATA_KEY];
  if (text === undefined) {
    for (const t of file.tensors.values()) t.dispose();
    throw new CheckpointError(
      `decodeCheckpoint: no '${METADATA_KEY}' metadata; this .safetensors file is not a training checkpoint`,
    );
  }
  const meta = JSON.parse(text) as CheckpointMetadata;
  if (meta.format !== FORMAT) {
    throw new CheckpointError(`decodeCheckpoint: format ${meta.format}, expected ${FORMAT}`);
  }
  const model: StateDict = new Map();
  const state: Record<number, ParamState> = {};
  for (const [index, values] of Object.entries(meta.optimizer.scalars)) {
    state[Number(index)] = { ...values };
  }
  for (const [key, value] of file.tensors) {
    if (key.startsWith('model.')) model.set(key.slice('model.'.length), value);
    else if (key.startsWith('optimizer.')) {
      const [, index, ...name] = key.split('.');
      state[Number(index)] ??= {};
      (state[Number(index)] as ParamState)[name.join('.')] = value;
    } else {
      value.dispose();
    }
  }
  return {
    epoch: meta.epoch,
    model,
    optimizer: { state, paramGroups: meta.optimizer.paramGroups },
    scheduler: meta.scheduler,
    generators: meta.generators,
    history: meta.history,
  };
}

/** Disposes the tensors a decoded checkpoint holds. */
export function disposeCheckpoint(checkpoint: TrainingCheckpoint): void {
  for (const t of checkpoint.model.values()) t.dispose();
  for (const state of Object.values(checkpoint.optimizer.state)) {
    for (const v of Object.values(state as ParamState)) if (typeof v !== 'number') v.dispose();
  }
}
