// Trains the mini AlexNet on a generated bar task and classifies one image.
// Run from packages/alexnet after `pnpm build`: node examples/train-mini.mjs
import {
  alexnet,
  evaluate,
  paperOptimizer,
  predict,
  SYNTHETIC_BAR_CLASSES,
  syntheticBars,
  Trainer,
} from '@gpunet/alexnet';
import { setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';

await setBackend('wasm'); // the fast CPU backend; leave this out to use the reference backend

const model = alexnet({ variant: 'mini', inputSize: 28, inChannels: 1, numClasses: 4 });
const { optimizer, scheduler } = paperOptimizer(model); // SGD 0.01, momentum 0.9, wd 5e-4
const every = (count, seed, batchSize) => ({
  [Symbol.iterator]: () => syntheticBars({ count, seed, batchSize })[Symbol.iterator](),
});
const trainer = new Trainer({
  model,
  optimizer,
  scheduler,
  epochs: 5,
  data: every(512, 1, 16),
  validation: every(128, 99, 32),
});
trainer.addEventListener('epoch', ({ detail }) =>
  console.log(
    `epoch ${detail.epoch}: loss ${detail.trainLoss.toFixed(3)}, val top-1 ${detail.valTop1}`,
  ),
);
await trainer.run();

console.log(await evaluate(model, every(128, 7, 32)));
const [{ images }] = syntheticBars({ count: 1, seed: 42 }); // label 0: a horizontal bar
console.log(await predict(model, images, { topK: 2, classNames: SYNTHETIC_BAR_CLASSES }));
