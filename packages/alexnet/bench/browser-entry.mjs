// The browser side of bench/browser.mjs: AlexNet on one gpu.js browser mode (webgl2, webgl or
// webgpu, named by globalThis.GPUNET_MODE) beside TF.js building the same network from its ops on
// the comparable TF.js backend (webgl or webgpu) in the same page. Leaves the cells, the logits
// check and any error on globalThis.gpunetBench.
import { alexnet } from '@gpunet/alexnet';
import '@gpunet/kernels';
import { Generator, noGrad, randn, setBackend, tensor } from '@gpunet/tensor';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients: without them TF.js's training step throws
// ("gradient function not found for RealDiv").
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { gpunetSteps } from './steps.mjs';
import { stateDictArrays, tfjsAlexNet } from './tfjs-alexnet.mjs';

const g = globalThis;
const mode = g.GPUNET_MODE ?? 'webgl2';
const variant = g.GPUNET_VARIANT ?? 'paper';
const windowMs = g.GPUNET_WINDOW_MS ?? 1500;
const budgetSeconds = g.GPUNET_BUDGET_S ?? 1;
/** The cells to measure: 'b1' (inference at batch 1), 'b16' (at batch 16), 'train' (a step at 16). */
const wanted = g.GPUNET_CELLS ?? ['b1', 'b16', 'train'];
const peer = mode === 'webgpu' ? 'webgpu' : 'webgl';
const result = {
  mode,
  variant,
  peer,
  ours: null,
  theirs: null,
  check: '',
  error: '',
  isDone: false,
};
g.gpunetBench = result;
const log = (m) => console.log(`${variant} ${m}`);

/**
 * Images/s of `step` over `batch` images: one untimed warm-up call (it compiles), then timed
 * calls for `windowMs` (at least one; a batch-16 cell on SwiftShader is one). Records in
 * `cells.timed[name]` how many calls were timed.
 */
async function imagesPerSecond(cells, name, step, batch) {
  await step();
  let count = 0;
  const start = performance.now();
  while (count < 1 || performance.now() - start < windowMs) {
    await step();
    count++;
  }
  cells.timed[name] = count;
  return (batch * count) / ((performance.now() - start) / 1000);
}

/**
 * Fills `cells` as it goes, so that a page stopped at its time limit still reports what it
 * measured. The batch-16 cells run when the batch-1 one took at most `budgetSeconds` per image,
 * or when the batch-1 cell is not wanted.
 */
async function measure({ infer, train }, cells) {
  cells.timed = {};
  const slow = () => typeof cells.b1 === 'number' && 1 / cells.b1 > budgetSeconds;
  if (wanted.includes('b1')) cells.b1 = await imagesPerSecond(cells, 'b1', () => infer(1), 1);
  if (wanted.includes('b16'))
    cells.b16 = slow() ? '> budget' : await imagesPerSecond(cells, 'b16', () => infer(16), 16);
  if (wanted.includes('train'))
    cells.train = slow() ? '> budget' : await imagesPerSecond(cells, 'train', train, 16);
  return cells;
}

const size = variant === 'paper' ? 227 : 224;
const inputs = {
  1: randn([1, 3, size, size], { generator: new Generator(1) }).dataSync(),
  16: randn([16, 3, size, size], { generator: new Generator(16) }).dataSync(),
};
const labelValues = Array.from({ length: 16 }, (_, i) => (i * 61) % 1000);

async function ours() {
  await setBackend(mode);
  const model = alexnet({ variant, init: 'pytorch', seed: 0 });
  const xs = {
    1: tensor(inputs[1], [1, 3, size, size]),
    16: tensor(inputs[16], [16, 3, size, size]),
  };
  model.eval();
  const labels = tensor(labelValues, [16], { dtype: 'int32' });
  const { infer, train } = gpunetSteps(model, xs, labels);
  // The logits and weights are taken before training changes the weights.
  const logits = Array.from(await noGrad(() => model.forward(xs[1])).data());
  const weights = await stateDictArrays(model);
  log(`gpunet ${mode}: measuring`);
  const cells = {};
  result.ours = cells;
  await measure({ infer, train }, cells);
  return { cells, weights, logits };
}

async function theirs(weights) {
  await tf.setBackend(peer);
  await tf.ready();
  const net = tfjsAlexNet(variant, weights, { trainable: true });
  const xs = {
    1: tf.transpose(tf.tensor4d(inputs[1], [1, 3, size, size]), [0, 2, 3, 1]),
    16: tf.transpose(tf.tensor4d(inputs[16], [16, 3, size, size]), [0, 2, 3, 1]),
  };
  const logits = Array.from(await net.forward(xs[1]).data());
  const labels = tf.oneHot(tf.tensor1d(labelValues, 'int32'), 1000);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const infer = async (batch) => {
    const y = net.forward(xs[batch]);
    await y.data();
    y.dispose();
  };
  const train = async () => {
    const cost = optimizer.minimize(
      () => tf.losses.softmaxCrossEntropy(labels, net.forward(xs[16])),
      true,
    );
    await cost.data();
    cost.dispose();
  };
  log(`TF.js ${peer}: measuring`);
  const cells = {};
  result.theirs = cells;
  await measure({ infer, train }, cells);
  return { cells, logits };
}

// The weights both sides use: seed 0 with PyTorch's init, built on the reference backend so that
// TF.js is measured even where the gpu.js mode cannot run the model.
await setBackend('reference');
const weights = await stateDictArrays(alexnet({ variant, init: 'pytorch', seed: 0 }));
let a = null;
try {
  a = await ours();
  result.ours = a.cells;
} catch (error) {
  result.ours = null;
  result.error = String(error?.message ?? error).split('\n')[0];
}
try {
  const b = await theirs(weights);
  result.theirs = b.cells;
  if (a) {
    const scale = Math.max(...a.logits.map(Math.abs));
    const diff = Math.max(...a.logits.map((v, i) => Math.abs(v - b.logits[i])));
    result.check = `${variant}: gpunet ${mode} vs TF.js ${peer} on the same weights and image: max |logit difference| ${diff.toExponential(2)} (logits up to ${scale.toFixed(3)})`;
  }
} catch (error) {
  result.theirsError = String(error?.message ?? error).split('\n')[0];
}
result.isDone = true;
