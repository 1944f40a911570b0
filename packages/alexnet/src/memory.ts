import type { BaseOptions, Optimizer } from '@gpunet/optim';
import { type AlexNet, outputSize } from './alexnet.js';

/** What a training step of an AlexNet holds at its peak, in bytes, by part (`trainingMemory`). */
export interface TrainingMemoryEstimate {
  /** Images in the batch. */
  batch: number;
  /** The weights and biases. */
  parameters: number;
  /** Their gradients (one per parameter). */
  gradients: number;
  /** The optimizer's buffers (SGD with momentum: one per parameter; Adam: two). */
  optimizerState: number;
  /** The batch of images. */
  input: number;
  /**
   * What the forward pass keeps for backward (one activation per layer: the ReLUs run in
   * place), plus the gradients backward holds at once (about five of the largest activation).
   */
  activations: number;
  /** The optimizer step's temporaries (three of the largest parameter) and the kernels' work buffers. */
  workspace: number;
  /** The peak: parameters, gradients and optimizer state plus the larger of forward-backward and the step. */
  total: number;
}

/** Bytes of float32 per image kept by the forward pass of this AlexNet, and its largest activation. */
function activationFloats(model: AlexNet): { kept: number; largest: number } {
  const o = model.options;
  const [c1, c2, c3, c4, c5] = o.channels;
  const [k1, s1, p1] =
    o.variant === 'paper' ? [11, 4, 0] : o.variant === 'torchvision' ? [11, 4, 2] : [5, 1, 2];
  const lrn = o.variant === 'torchvision' ? 0 : 1;
  const a1 = outputSize(o.inputSize, k1, s1, p1);
  const q1 = outputSize(a1, 3, 2, 0);
  const a2 = q1;
  const q2 = outputSize(a2, 3, 2, 0);
  const q3 = outputSize(q2, 3, 2, 0);
  const conv1 = c1 * a1 * a1;
  const conv2 = c2 * a2 * a2;
  // conv+relu (one: in place), LRN, pool; conv3-5 at q2; pool5; the classifier's matmul, bias,
  // relu and dropout (mask and output) outputs, and fc8's.
  const kept =
    conv1 * (1 + lrn) +
    c1 * q1 * q1 +
    conv2 * (1 + lrn) +
    c2 * q2 * q2 +
    (c3 + c4 + c5) * q2 * q2 +
    c5 * q3 * q3 +
    (o.variant === 'torchvision' ? c5 * 36 : 0) +
    8 * o.hidden +
    3 * o.numClasses;
  return { kept, largest: Math.max(conv1, conv2) };
}

/** Optimizer buffers per parameter: Adam's two moments, SGD's momentum (if any), else none. */
function stateBuffers(optimizer: Optimizer<BaseOptions> | undefined): number {
  const group = optimizer?.paramGroups[0] as Record<string, unknown> | undefined;
  if (!group) return 1;
  if ('betas' in group) return 2;
  return typeof group.momentum === 'number' && group.momentum > 0 ? 1 : 0;
}

/**
 * An estimate of the memory one training step of `model` (forward, cross-entropy, backward,
 * optimizer step) needs at batch `batch`: checked against measurements on the wasm backend
 * (paper AlexNet, batch 16 and 128, the estimate is above the heap's high-water mark by a few
 * percent). The optimizer decides the state buffers (default: one, SGD with momentum).
 */
export function trainingMemory(
  model: AlexNet,
  batch: number,
  optimizer?: Optimizer<BaseOptions>,
): TrainingMemoryEstimate {
  let parameterFloats = 0;
  let largestParameter = 0;
  for (const p of model.parameters()) {
    parameterFloats += p.size;
    largestParameter = Math.max(largestParameter, p.size);
  }
  const o = model.options;
  const { kept, largest } = activationFloats(model);
  const parameters = parameterFloats * 4;
  const gradients = parameters;
  const optimizerState = stateBuffers(optimizer) * parameters;
  const input = batch * o.inChannels * o.inputSize * o.inputSize * 4;
  const activations = batch * (kept + 5 * largest) * 4;
  // The step's temporaries; 64 MiB for im2col and packing buffers (bounded, not by the batch).
  const step = 4 * largestParameter * 4;
  const workspace = step + 64 * 2 ** 20;
  const held = parameters + optimizerState + input + 64 * 2 ** 20;
  const total = held + gradients + Math.max(activations, step);
  return { batch, parameters, gradients, optimizerState, input, activations, workspace, total };
}

/** The largest batch whose `trainingMemory` estimate fits in `limit` bytes (0 if none). */
export function largestTrainingBatch(
  model: AlexNet,
  limit: number,
  optimizer?: Optimizer<BaseOptions>,
): number {
  let lo = 0;
  let hi = 1;
  while (trainingMemory(model, hi, optimizer).total <= limit) {
    lo = hi;
    hi *= 2;
    if (hi > 2 ** 24) return lo;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (trainingMemory(model, mid, optimizer).total <= limit) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Thrown before a training step whose estimated memory exceeds what the backend can hold. */
export class TrainingMemoryError extends RangeError {
  override name = 'TrainingMemoryError';
  constructor(
    message: string,
    /** The estimate for the batch that was asked for. */
    readonly estimate: TrainingMemoryEstimate,
    /** The most bytes the backend can hold. */
    readonly limit: number,
    /** The largest batch whose estimate fits. */
    readonly largestBatch: number,
  ) {
    super(message);
  }
}

const gib = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

/**
 * Throws a `TrainingMemoryError` when a training step of `model` at `batch` cannot fit in
 * `limit` bytes (a backend's `memoryLimit()`, e.g. the wasm backend's 4 GiB), saying the
 * estimate, its parts and the largest batch that fits. `Trainer` calls it before the first step
 * at each batch size, so the error comes before any memory is spent.
 */
export function checkTrainingMemory(
  model: AlexNet,
  batch: number,
  limit: number,
  backendName: string,
  optimizer?: Optimizer<BaseOptions>,
): void {
  const estimate = trainingMemory(model, batch, optimizer);
  if (estimate.total <= limit) return;
  const largest = largestTrainingBatch(model, limit, optimizer);
  throw new TrainingMemoryError(
    `train: a training step at batch ${batch} needs about ${gib(estimate.total)} GiB ` +
      `(parameters ${gib(estimate.parameters)}, gradients ${gib(estimate.gradients)}, ` +
      `optimizer state ${gib(estimate.optimizerState)}, input ${gib(estimate.input)}, ` +
      `activations ${gib(estimate.activations)}, workspace ${gib(estimate.workspace)} GiB), ` +
      `more than the ${gib(limit)} GiB the '${backendName}' backend can hold; the largest batch that fits is ${largest}` +
      (largest > 0
        ? ` (or accumulate the gradients of ${Math.ceil(batch / largest)} smaller batches)`
        : ''),
    estimate,
    limit,
    largest,
  );
}
