#!/usr/bin/env node
/**
 * AlexNet's largest layers at batch 128 on the Node gpu.js modes: conv1 + ReLU + LRN + max pool
 * (input 19.8M elements, conv1's output 37.2M, pool1's 9.0M) and fc6 (weight 37.7M), forward and
 * backward. Every one of these kernels is over the 2^23-element index limit, so each runs split
 * (src/split.ts). Checks the batch-128 results of a few images against the same layers run at
 * batch 1 on the same mode (which needs no split and is conformance-tested), and prints the
 * time and the number of split kernels. Not a test (minutes on a software renderer).
 *
 *   pnpm --filter @gpunet/kernels build
 *   node bench/batch128.mjs webasm
 *   xvfb-run -a node bench/batch128.mjs headlessgl
 */
import * as T from '@gpunet/tensor';
import '../dist/index.js';

const modes = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['webasm'];
const BATCH = Number(process.env.BATCH ?? 128);
const CHECKED = [0, Math.floor(BATCH / 2), BATCH - 1];

function filled(n, seed, scale) {
  const gen = new T.Generator(seed);
  const out = new Float32Array(n);
  gen.fillUniform(out);
  for (let k = 0; k < n; k++) out[k] = (out[k] - 0.5) * scale;
  return out;
}

const x = filled(BATCH * 3 * 227 * 227, 1, 2);
const w1 = filled(96 * 3 * 11 * 11, 2, 0.1);
const h = filled(BATCH * 9216, 3, 2);
const w6 = filled(4096 * 9216, 4, 0.02);

/** conv1 block and fc6 on `count` images from `first`; returns outputs and gradients. */
async function layers(first, count) {
  const xt = T.tensor(x.subarray(first * 154587, (first + count) * 154587), [count, 3, 227, 227]);
  const w1t = T.tensor(w1, [96, 3, 11, 11]);
  const ht = T.tensor(h.subarray(first * 9216, (first + count) * 9216), [count, 9216]);
  const w6t = T.tensor(w6, [4096, 9216]);
  for (const t of [xt, w1t, ht, w6t]) t.requiresGrad = true;
  const kept = T.tidy(() => {
    const conv = T.relu(T.conv2d(xt, w1t, { stride: 4 }));
    const pool = T.maxPool2d(
      T.localResponseNorm(conv, { size: 5, alpha: 1e-4, beta: 0.75, k: 2 }),
      {
        kernelSize: 3,
        stride: 2,
      },
    );
    const fc = T.linear(ht, w6t);
    T.add(T.sum(pool), T.sum(fc)).backward();
    return [pool, fc, xt.grad, ht.grad];
  });
  const out = [];
  for (const t of kept) out.push(await t.data());
  T.dispose([...kept, xt, w1t, ht, w6t]);
  return out;
}

for (const mode of modes) {
  await T.setBackend(mode);
  const backend = T.getBackend();
  const splits = backend.stats.splits;
  const start = performance.now();
  const [pool, fc, dx, dh] = await layers(0, BATCH);
  const seconds = (performance.now() - start) / 1000;
  let worst = 0;
  const compare = (big, small, index, what) => {
    const n = small.length;
    for (let k = 0; k < n; k++) {
      const d = Math.abs(big[index * n + k] - small[k]) / (1e-3 + Math.abs(small[k]));
      if (!(d <= 1e-3))
        throw new Error(
          `${mode}: ${what} of image ${index} differs at ${k}: ${big[index * n + k]} vs ${small[k]}`,
        );
      worst = Math.max(worst, d);
    }
  };
  for (const index of CHECKED) {
    const [p1, f1, dx1, dh1] = await layers(index, 1);
    compare(pool, p1, index, 'pool1');
    compare(fc, f1, index, 'fc6');
    compare(dx, dx1, index, 'conv1 input gradient');
    compare(dh, dh1, index, 'fc6 input gradient');
  }
  console.log(
    `${mode}: batch ${BATCH}: conv1+relu+lrn+pool1 and fc6, forward and backward, in ${seconds.toFixed(1)} s; ` +
      `${backend.stats.splits - splits} kernels split; images ${CHECKED.join(', ')} match batch 1 on ${mode} ` +
      `(largest relative difference ${worst.toExponential(1)})`,
  );
}
