/**
 * The Train tab: trains a fresh mini AlexNet on generated bars in the page, on the selected
 * backend, with a live chart; the result can replace the loaded model.
 */
import { alexnet, type Batch, paperOptimizer, syntheticBars, Trainer } from '@gpunet/alexnet';
import { writeSafetensors } from '@gpunet/layers';
import { drawChart, type TrainingPoint } from './chart.js';
import { MODEL_OPTIONS } from './model.js';

/** Options of one run in the page. */
export interface TrainRunOptions {
  epochs: number;
  /** Training images per epoch. */
  count: number;
  batchSize: number;
  canvas: HTMLCanvasElement;
  /** Called with a one-line status after every batch and epoch. */
  onStatus: (line: string) => void;
  /** True once the user asked to stop; checked between batches. */
  isStopped: () => boolean;
}

/**
 * Training batches that yield to the page between steps (so the chart repaints and Stop works)
 * and end the epoch early once stopped.
 */
async function* batches(
  count: number,
  seed: number,
  batchSize: number,
  isStopped: () => boolean,
): AsyncGenerator<Batch> {
  const all = syntheticBars({ count, seed, batchSize });
  for (let i = 0; i < all.length; i++) {
    if (isStopped()) {
      for (const rest of all.slice(i)) {
        rest.images.dispose();
        rest.labels.dispose();
      }
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 0));
    yield all[i];
  }
}

/** Trains a fresh mini AlexNet; returns its weights as .safetensors bytes. */
export async function trainInPage(options: TrainRunOptions): Promise<Uint8Array> {
  // A fixed seed: the same run on every backend, so runs can be compared.
  const model = alexnet({ ...MODEL_OPTIONS, seed: 2 });
  // Half the paper's lr: at 0.01 this seed's loss spikes in epoch 3 (measured in Node with one
  // wasm thread, which the page matches exactly); 0.005 trains smoothly.
  const { optimizer, scheduler } = paperOptimizer(model, { lr: 0.005 });
  const points: TrainingPoint[] = [];
  const perEpoch = Math.ceil(options.count / options.batchSize);
  const started = performance.now();
  const trainer = new Trainer({
    model,
    optimizer,
    scheduler,
    epochs: options.epochs,
    data: {
      [Symbol.asyncIterator]: () => batches(options.count, 1, options.batchSize, options.isStopped),
    },
    validation: {
      [Symbol.iterator]: () => syntheticBars({ count: 64, seed: 99 })[Symbol.iterator](),
    },
    onBatch: (b) => {
      points.push({
        step: (b.epoch - 1) * perEpoch + b.batch + 1,
        loss: b.loss,
        accuracy: b.accuracy,
      });
      drawChart(options.canvas, points);
      const seconds = (performance.now() - started) / 1000;
      options.onStatus(
        `epoch ${b.epoch}, batch ${b.batch + 1}/${perEpoch}: loss ${b.loss.toFixed(3)}, ` +
          `accuracy ${b.accuracy.toFixed(2)}, ${((points.length * options.batchSize) / seconds).toFixed(1)} images/s`,
      );
    },
    onEpoch: (e) =>
      options.onStatus(
        `epoch ${e.epoch} done: loss ${e.trainLoss.toFixed(3)}, validation top-1 ${e.valTop1?.toFixed(3)}`,
      ),
  });
  // Epoch by epoch rather than run(): Stop ends the current epoch early and skips the rest.
  while (trainer.epoch < options.epochs && !options.isStopped()) await trainer.runEpoch();
  const bytes = await writeSafetensors(model.stateDict());
  for (const p of model.parameters()) p.dispose();
  return bytes;
}
