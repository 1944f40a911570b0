#!/usr/bin/env node
/**
 * Makes the web demo's bundled model and sample images:
 *   web/public/mini-bars.safetensors   the mini AlexNet (28x28, 1 channel, 4 classes) trained in
 *                                      Node on `syntheticBars` for a few epochs (about a minute)
 *   web/public/samples/<class>.png     one held-out image per class, encoded as the page decodes
 *                                      them (see web/src/image.ts: value = pixel / 85 - 1)
 *
 * Run from apps/demo after building the packages:
 *   pnpm --filter @gpunet/demo... build && node web/scripts/make-checkpoint.mjs
 * The output is committed; rerun only to change the model.
 */
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  alexnet,
  paperOptimizer,
  predict,
  SYNTHETIC_BAR_CLASSES,
  syntheticBars,
  Trainer,
} from '@gpunet/alexnet';
import { writeSafetensors } from '@gpunet/layers';
import { narrow, setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';
import sharp from 'sharp';

/** The model the page builds; web/src/model.ts holds the same numbers. */
export const MODEL = { variant: 'mini', inputSize: 28, inChannels: 1, numClasses: 4, seed: 1 };

const publicDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public');
await setBackend('wasm');

const model = alexnet(MODEL);
const { optimizer, scheduler } = paperOptimizer(model);
const every = (count, seed, batchSize) => ({
  [Symbol.iterator]: () => syntheticBars({ count, seed, batchSize })[Symbol.iterator](),
});
const trainer = new Trainer({
  model,
  optimizer,
  scheduler,
  epochs: 6,
  data: every(1024, 1, 16),
  validation: every(256, 99, 32),
  onEpoch: (e) =>
    console.log(
      `epoch ${e.epoch}: loss ${e.trainLoss.toFixed(4)}, train ${e.trainAccuracy.toFixed(3)}, val top-1 ${e.valTop1?.toFixed(3)}`,
    ),
});
await trainer.run();
model.eval();

const bytes = await writeSafetensors(model.stateDict(), {
  'gpunet.demo.model': JSON.stringify(MODEL),
  'gpunet.demo.classes': JSON.stringify(SYNTHETIC_BAR_CLASSES),
});
await writeFile(join(publicDir, 'mini-bars.safetensors'), bytes);
console.log(`wrote mini-bars.safetensors (${bytes.byteLength} bytes)`);

// Held-out samples (seed 7, not a training or validation seed), one per class, as 8-bit PNG.
const [{ images, labels }] = syntheticBars({ count: 4, seed: 7, batchSize: 4 });
const values = await images.data();
const classes = await labels.data();
const side = MODEL.inputSize;
for (let i = 0; i < 4; i++) {
  const pixels = new Uint8Array(side * side);
  for (let p = 0; p < pixels.length; p++) {
    pixels[p] = Math.max(0, Math.min(255, Math.round((values[i * side * side + p] + 1) * 85)));
  }
  const name = SYNTHETIC_BAR_CLASSES[classes[i]];
  await sharp(pixels, { raw: { width: side, height: side, channels: 1 } })
    .png()
    .toFile(join(publicDir, 'samples', `${name}.png`));
  const [top] = await predict(model, narrow(images, 0, i, 1), {
    topK: 1,
    classNames: SYNTHETIC_BAR_CLASSES,
  });
  console.log(`samples/${name}.png: predicted ${top.label} (${top.probability.toFixed(3)})`);
}
