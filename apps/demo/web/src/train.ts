/**
 * Training on the user's own pictures, in the page, on the selected backend: classes the user
 * named, a live chart of loss and accuracy, a stop button. When the pictures are fed as the
 * bundled digit model's input (28x28 grey) its convolutional features are reused and frozen (the
 * transfer learning Teachable Machine does): they run once per image under `noGrad`, and only
 * the classifier (fc6, fc7, a new fc8) is trained. Otherwise a mini AlexNet trains from scratch.
 */
import { type AlexNet, alexnet } from '@gpunet/alexnet';
import { writeSafetensors } from '@gpunet/layers';
import { Adam } from '@gpunet/optim';
import { argmax, crossEntropy, noGrad, type Tensor, tensor, tidy } from '@gpunet/tensor';
import { drawChart, type TrainingPoint } from './chart.js';
import {
  METADATA_KEY,
  type ModelSpec,
  type RawTensor,
  type RawWeights,
  storedConfig,
} from './spec.js';

/** One picture, already turned into the model's input. */
export interface Example {
  values: Float32Array;
  label: number;
}

/** Options of one run in the page. */
export interface TrainRunOptions {
  /** The model to train: its classes are the user's. */
  spec: ModelSpec;
  /** Weights whose `features.*` are loaded and frozen; null trains everything from scratch. */
  frozenFeatures: RawWeights | null;
  examples: Example[];
  epochs: number;
  batchSize: number;
  /** Adam's learning rate. */
  lr: number;
  canvas: HTMLCanvasElement;
  /** Called with a one-line status after every batch and epoch. */
  onStatus: (line: string) => void;
  /** True once the user asked to stop; checked between batches. */
  isStopped: () => boolean;
}

/** What a run leaves. */
export interface TrainResult {
  /** The weights as `.safetensors`, with the CLI's model config in the metadata. */
  file: Uint8Array;
  weights: RawWeights;
  /** Accuracy on the held-out pictures after the last epoch (null when none were held out). */
  validationAccuracy: number | null;
  epochs: number;
}

/** Every 5th picture of a class with at least 5 is held out to validate; the rest train. */
export function splitExamples(examples: Example[]): { train: Example[]; validation: Example[] } {
  const train: Example[] = [];
  const validation: Example[] = [];
  const seen = new Map<number, number>();
  const counts = new Map<number, number>();
  for (const e of examples) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
  for (const e of examples) {
    const n = seen.get(e.label) ?? 0;
    seen.set(e.label, n + 1);
    ((counts.get(e.label) ?? 0) >= 5 && n % 5 === 4 ? validation : train).push(e);
  }
  return { train, validation };
}

/** A small seeded shuffle (mulberry32), so a run is the same every time on every backend. */
function shuffled(count: number, seed: number): number[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Rows `indices` of a host matrix of `width` columns. */
function rows(data: Float32Array, width: number, indices: readonly number[]): Float32Array {
  const out = new Float32Array(indices.length * width);
  for (const [i, row] of indices.entries()) {
    out.set(data.subarray(row * width, (row + 1) * width), i * width);
  }
  return out;
}

/** The model's inputs of every example, stacked: `[N, C*H*W]` on the host. */
function stack(examples: Example[]): Float32Array {
  const width = examples[0]?.values.length ?? 0;
  const out = new Float32Array(examples.length * width);
  for (const [i, e] of examples.entries()) out.set(e.values, i * width);
  return out;
}

/** The frozen features' output (flattened pool5) of every example, `[N, F]` on the host. */
async function frozenOutputs(
  model: AlexNet,
  inputs: Float32Array,
  count: number,
): Promise<Float32Array> {
  const { inChannels, inputSize } = model.options;
  const x = tensor(inputs, [count, inChannels, inputSize, inputSize]);
  model.eval();
  const y = noGrad(() => {
    const features = model.features.call(x);
    return model.flatten.call(model.avgpool ? model.avgpool.call(features) : features);
  });
  const data = (await y.data()) as Float32Array;
  x.dispose();
  y.dispose();
  return Float32Array.from(data);
}

/** Trains as the options say; resolves when done or stopped. */
export async function trainInPage(options: TrainRunOptions): Promise<TrainResult> {
  const { spec } = options;
  const model = alexnet({ ...spec.model, init: 'kaiming', seed: 0 });
  const isFrozen = options.frozenFeatures !== null;
  if (options.frozenFeatures) {
    const features = new Map<string, Tensor>();
    for (const [key, raw] of options.frozenFeatures.tensors) {
      if (key.startsWith('features.')) features.set(key, tensor(raw.data, raw.shape));
    }
    model.loadStateDict(features, { strict: false });
    for (const t of features.values()) t.dispose();
  }
  const { train, validation } = splitExamples(options.examples);
  const inputWidth = train[0]?.values.length ?? 0;
  // Frozen: the features run once per picture; only the classifier sees gradients.
  const trainInputs = stack(train);
  const validationInputs = stack(validation);
  const head = isFrozen ? model.classifier : model;
  const trainX = isFrozen ? await frozenOutputs(model, trainInputs, train.length) : trainInputs;
  const validationX = isFrozen
    ? validation.length > 0
      ? await frozenOutputs(model, validationInputs, validation.length)
      : new Float32Array(0)
    : validationInputs;
  const width = isFrozen ? trainX.length / train.length : inputWidth;
  const shapeOf = (n: number) =>
    isFrozen ? [n, width] : [n, spec.model.inChannels, spec.model.inputSize, spec.model.inputSize];
  const optimizer = new Adam(head.parameters(), { lr: options.lr });
  const points: TrainingPoint[] = [];
  const perEpoch = Math.ceil(train.length / options.batchSize);
  let validationAccuracy: number | null = null;
  let epoch = 0;
  const started = performance.now();
  let seen = 0;
  while (epoch < options.epochs && !options.isStopped()) {
    epoch++;
    head.train();
    const order = shuffled(train.length, epoch);
    for (let b = 0; b < perEpoch && !options.isStopped(); b++) {
      const batch = order.slice(b * options.batchSize, (b + 1) * options.batchSize);
      const x = tensor(rows(trainX, width, batch), shapeOf(batch.length));
      const labels = tensor(
        Int32Array.from(batch, (i) => train[i].label),
        [batch.length],
      );
      const [loss, predicted] = tidy(() => {
        const logits = head.forward(x);
        const loss = crossEntropy(logits, labels);
        loss.backward();
        return [loss, argmax(logits, 1)];
      });
      const lossValue = (await loss.data())[0];
      const hits = (await predicted.data()).filter((p, i) => p === train[batch[i]].label).length;
      loss.dispose();
      predicted.dispose();
      x.dispose();
      labels.dispose();
      optimizer.step();
      optimizer.zeroGrad();
      seen += batch.length;
      points.push({ step: points.length + 1, loss: lossValue, accuracy: hits / batch.length });
      drawChart(options.canvas, points);
      const rate = seen / ((performance.now() - started) / 1000);
      options.onStatus(
        `epoch ${epoch}, batch ${b + 1}/${perEpoch}: loss ${lossValue.toFixed(3)}, batch accuracy ${(hits / batch.length).toFixed(2)}, ${rate.toFixed(1)} images/s`,
      );
      // Yield so that the chart repaints and Stop is heard.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (validation.length > 0) {
      head.eval();
      const x = tensor(validationX, shapeOf(validation.length));
      const predicted = noGrad(() => tidy(() => argmax(head.forward(x), 1)));
      const values = await predicted.data();
      x.dispose();
      predicted.dispose();
      validationAccuracy =
        validation.filter((e, i) => values[i] === e.label).length / validation.length;
      points[points.length - 1].validation = validationAccuracy;
      drawChart(options.canvas, points);
    }
    options.onStatus(
      `epoch ${epoch} done: loss ${points[points.length - 1]?.loss.toFixed(3) ?? '-'}` +
        (validationAccuracy === null
          ? ' (too few pictures to hold any out)'
          : `, held-out accuracy ${validationAccuracy.toFixed(3)} (${validation.length} pictures)`),
    );
  }
  model.eval();
  const metadata = { [METADATA_KEY]: storedConfig(spec) };
  const file = await writeSafetensors(model.stateDict(), metadata);
  const tensors = new Map<string, RawTensor>();
  for (const [key, t] of model.stateDict()) {
    tensors.set(key, {
      shape: [...t.shape],
      data: Float32Array.from((await t.data()) as Float32Array),
    });
  }
  optimizer.zeroGrad();
  optimizer.dispose(); // its moment estimates live on the device
  for (const p of model.parameters()) p.dispose();
  return {
    file,
    weights: { name: 'trained in the page', bytes: file.byteLength, tensors, metadata },
    validationAccuracy,
    epochs: epoch,
  };
}
