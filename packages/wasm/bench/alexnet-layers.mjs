// GFLOP/s per AlexNet layer on the wasm backend (1 thread and all cores) beside TensorFlow.js's
// wasm backend (XNNPACK; one thread in Node) in the same run, at batch 1 and 16.
// Run: pnpm --filter @gpunet/wasm bench:layers               (prints the table)
//      pnpm --filter @gpunet/wasm bench:layers --write       (also writes it into docs/benchmarks.md)
//      pnpm --filter @gpunet/wasm bench:layers --only pool,lrn (only the layers whose name starts
//                                                              with one of these; prints only)
// First: lets Node 20 run the wasm backend's fused multiply-add build, as the gpunet CLI does.
import '@gpunet/wasm/relaxed-simd';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import {
  conv2d,
  conv2dAttrs,
  linear,
  localResponseNorm,
  maxPool2d,
  randn,
  registerBackend,
  runKernel,
  setBackend,
  tidy,
} from '@gpunet/tensor';
import { relaxedSimdSupported, WasmBackend } from '@gpunet/wasm';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

const cores = availableParallelism();
const loadStart = loadavg()[0];
registerBackend('wasm-1thread', () => WasmBackend.create({ threads: 1 }));
registerBackend('wasm-all', () => WasmBackend.create({ threads: cores }));
await tf.setBackend('wasm');
await tf.ready();

const convLayers = [
  { name: 'conv1', in: [3, 227, 227], w: [96, 3, 11, 11], stride: 4, padding: 0, groups: 1 },
  { name: 'conv2', in: [96, 27, 27], w: [256, 48, 5, 5], stride: 1, padding: 2, groups: 2 },
  { name: 'conv3', in: [256, 13, 13], w: [384, 256, 3, 3], stride: 1, padding: 1, groups: 1 },
  { name: 'conv4', in: [384, 13, 13], w: [384, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
  { name: 'conv5', in: [384, 13, 13], w: [256, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
];
// AlexNet's max-pools (3x3, stride 2) and LRNs (size 5) at their input shapes.
const poolLayers = [
  { name: 'pool1', in: [96, 55, 55] },
  { name: 'pool2', in: [256, 27, 27] },
  { name: 'pool5', in: [256, 13, 13] },
];
const lrnLayers = [
  { name: 'lrn1', in: [96, 55, 55] },
  { name: 'lrn2', in: [256, 27, 27] },
];
// The paper's LRN (k 2, n 5, alpha 1e-4, beta 0.75): localResponseNorm divides alpha by size.
const lrnOptions = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };
const poolOptions = { kernelSize: 3, stride: 2 };

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',') : null;
if (only && process.argv.includes('--write')) {
  console.error('alexnet-layers: --write writes the whole table; run it without --only');
  process.exit(1);
}
/** The layers of `list` that --only selects (all without it). */
const selected = (list) => list.filter((l) => !only || only.some((p) => l.name.startsWith(p)));

const fcLayers = [
  { name: 'fc6', in: 9216, out: 4096 },
  { name: 'fc7', in: 4096, out: 4096 },
  { name: 'fc8', in: 4096, out: 1000 },
];

/** MaxPool2d's attributes for AlexNet's 3x3/2 window (no padding, floor mode) on [n, c, h, w]. */
function poolAttrs([batch, channels, inHeight, inWidth]) {
  const out = (size) => Math.floor((size - 3) / 2) + 1;
  return {
    batch,
    channels,
    inHeight,
    inWidth,
    outHeight: out(inHeight),
    outWidth: out(inWidth),
    kernelHeight: 3,
    kernelWidth: 3,
    strideHeight: 2,
    strideWidth: 2,
    padTop: 0,
    padLeft: 0,
    dilationHeight: 1,
    dilationWidth: 1,
    countIncludePad: false,
    divisorOverride: null,
  };
}

/** Median seconds of `fn` over at least 3 runs and 0.5 s, after one warm-up. */
function time(fn) {
  fn();
  const samples = [];
  const start = performance.now();
  while (samples.length < 3 || (performance.now() - start < 500 && samples.length < 50)) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

async function gpunetTimes(backend, batch) {
  await setBackend(backend);
  const rows = {};
  for (const l of selected(convLayers)) {
    const x = randn([batch, ...l.in]);
    const w = randn(l.w);
    const options = { stride: l.stride, padding: l.padding, groups: l.groups };
    const a = conv2dAttrs(x.shape, w.shape, options);
    const dy = randn([batch, a.outChannels, a.outHeight, a.outWidth]);
    rows[`${l.name} forward`] = time(() => tidy(() => void conv2d(x, w, options)));
    rows[`${l.name} data gradient`] = time(() =>
      tidy(() => void runKernel('Conv2dBackpropInput', [dy, w], a)),
    );
    rows[`${l.name} filter gradient`] = time(() =>
      tidy(() => void runKernel('Conv2dBackpropFilter', [x, dy], a)),
    );
    for (const t of [x, w, dy]) t.dispose();
  }
  for (const l of selected(fcLayers)) {
    const x = randn([batch, l.in]);
    const w = randn([l.out, l.in]);
    rows[`${l.name} forward`] = time(() => tidy(() => void linear(x, w)));
    x.dispose();
    w.dispose();
  }
  for (const l of selected(lrnLayers)) {
    const x = randn([batch, ...l.in]);
    const dy = randn(x.shape);
    rows[`${l.name} forward`] = time(() => tidy(() => void localResponseNorm(x, lrnOptions)));
    rows[`${l.name} gradient`] = time(() =>
      tidy(() => void runKernel('LRNGrad', [x, dy], lrnOptions)),
    );
    x.dispose();
    dy.dispose();
  }
  for (const l of selected(poolLayers)) {
    const x = randn([batch, ...l.in]);
    const y = maxPool2d(x, poolOptions);
    const dy = randn(y.shape);
    const a = poolAttrs(x.shape);
    rows[`${l.name} forward`] = time(() => tidy(() => void maxPool2d(x, poolOptions)));
    rows[`${l.name} gradient`] = time(() =>
      tidy(() => void runKernel('MaxPool2dGrad', [dy, x], a)),
    );
    for (const t of [x, y, dy]) t.dispose();
  }
  return rows;
}

function tfjsTimes(batch) {
  const rows = {};
  for (const l of selected(convLayers)) {
    const [c, h, wd] = l.in;
    const x = tf.randomNormal([batch, h, wd, c]);
    const [out, inPerGroup, kh, kw] = l.w;
    // TF.js has no grouped convolution: split, convolve each half, concat (as a TF.js user would).
    const filters = Array.from({ length: l.groups }, () =>
      tf.randomNormal([kh, kw, inPerGroup, out / l.groups]),
    );
    const pad =
      l.padding === 0
        ? 'valid'
        : [
            [0, 0],
            [l.padding, l.padding],
            [l.padding, l.padding],
            [0, 0],
          ];
    const forward = () =>
      tf.tidy(() => {
        const parts = l.groups === 1 ? [x] : tf.split(x, l.groups, 3);
        const ys = parts.map((p, g) => tf.conv2d(p, filters[g], l.stride, pad));
        return l.groups === 1 ? ys[0] : tf.concat(ys, 3);
      });
    const y = forward();
    rows[`${l.name} forward`] = time(() => forward().dispose());
    const dy = tf.randomNormal(y.shape);
    const dyParts = l.groups === 1 ? [dy] : tf.split(dy, l.groups, 3);
    const inputShape = [batch, h, wd, inPerGroup];
    rows[`${l.name} data gradient`] = time(() =>
      tf.dispose(
        tf.tidy(() =>
          dyParts.map((d, g) => tf.conv2dTranspose(d, filters[g], inputShape, l.stride, pad)),
        ),
      ),
    );
    rows[`${l.name} filter gradient`] = null; // tfjs-backend-wasm registers no Conv2DBackpropFilter kernel
    tf.dispose([x, y, dy, ...filters, ...dyParts]);
  }
  for (const l of selected(fcLayers)) {
    const x = tf.randomNormal([batch, l.in]);
    const w = tf.randomNormal([l.out, l.in]);
    rows[`${l.name} forward`] = time(() => tf.matMul(x, w, false, true).dispose());
    tf.dispose([x, w]);
  }
  // TF.js's own gradient kernels (LRNGrad, MaxPoolGrad), called as its gradients call them.
  const lrnAttrs = { depthRadius: 2, bias: 2, alpha: 1e-4, beta: 0.75 };
  for (const l of selected(lrnLayers)) {
    const [c, h, wd] = l.in;
    const x = tf.randomNormal([batch, h, wd, c]);
    const y = tf.localResponseNormalization(x, 2, 2, 1e-4, 0.75);
    const dy = tf.randomNormal(y.shape);
    rows[`${l.name} forward`] = time(() =>
      tf.localResponseNormalization(x, 2, 2, 1e-4, 0.75).dispose(),
    );
    rows[`${l.name} gradient`] = time(() =>
      tf.engine().runKernel('LRNGrad', { x, y, dy }, lrnAttrs).dispose(),
    );
    tf.dispose([x, y, dy]);
  }
  const maxPoolAttrs = { filterSize: 3, strides: 2, pad: 'valid' };
  for (const l of selected(poolLayers)) {
    const [c, h, wd] = l.in;
    const x = tf.randomNormal([batch, h, wd, c]);
    const y = tf.maxPool(x, 3, 2, 'valid');
    const dy = tf.randomNormal(y.shape);
    rows[`${l.name} forward`] = time(() => tf.maxPool(x, 3, 2, 'valid').dispose());
    rows[`${l.name} gradient`] = time(() =>
      tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, maxPoolAttrs).dispose(),
    );
    tf.dispose([x, y, dy]);
  }
  return rows;
}

function flops(row, batch) {
  const layer = row.split(' ')[0];
  const conv = convLayers.find((l) => l.name === layer);
  if (conv) {
    const a = conv2dAttrs([batch, ...conv.in], conv.w, conv);
    return (
      2 * batch * a.outChannels * a.outHeight * a.outWidth * (conv.w[1] * conv.w[2] * conv.w[3])
    );
  }
  const fc = fcLayers.find((l) => l.name === layer);
  if (fc) return 2 * batch * fc.in * fc.out;
  // LRN and max-pool: elementwise operations of the forward (a square and an add per window tap
  // plus 4 per element for LRN; 9 compares per output for the 3x3 pool), for both passes.
  const lrn = lrnLayers.find((l) => l.name === layer);
  if (lrn) return batch * lrn.in[0] * lrn.in[1] * lrn.in[2] * (5 * 2 + 4);
  const pool = poolLayers.find((l) => l.name === layer);
  const a = poolAttrs([batch, ...pool.in]);
  return batch * a.channels * a.outHeight * a.outWidth * 9;
}

const lines = [
  `| layer, op | batch | gpunet wasm, 1 thread (GFLOP/s) | gpunet wasm, ${cores} threads | TF.js wasm, 1 thread | 1 thread / TF.js | ${cores} threads / TF.js |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
];
for (const batch of [1, 16]) {
  const one = await gpunetTimes('wasm-1thread', batch);
  const all = await gpunetTimes('wasm-all', batch);
  const peer = tfjsTimes(batch);
  for (const row of Object.keys(one)) {
    const f = flops(row, batch);
    const g = (s) => (s ? (f / s / 1e9).toFixed(2) : 'n/a');
    const r = (s) => (s && peer[row] ? (peer[row] / s).toFixed(2) : 'n/a');
    const line = `| ${row} | ${batch} | ${g(one[row])} | ${g(all[row])} | ${g(peer[row])} | ${r(one[row])} | ${r(all[row])} |`;
    lines.push(line);
    console.log(line);
  }
}

console.log(
  `load average (1 min) at the start and end: ${loadStart.toFixed(2)}, ${loadavg()[0].toFixed(2)}`,
);

if (process.argv.includes('--write')) {
  const path = new URL('../../../docs/benchmarks.md', import.meta.url);
  const heading = '## @gpunet/wasm: AlexNet layers, gpunet wasm vs TF.js wasm';
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, @tensorflow/tfjs-backend-wasm ${tf.version_core}`;
  const section = [
    heading,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine}, wasm ${relaxedSimdSupported() ? 'with relaxed SIMD (fused multiply-add)' : 'with plain SIMD'} with \`pnpm --filter @gpunet/wasm bench -- --write\`.`,
    `Load average (1 min) at the start and end of the run: ${loadStart.toFixed(2)} and ${loadavg()[0].toFixed(2)}${Math.max(loadStart, loadavg()[0]) > cores * 0.75 ? ' (other work shared the CPU: the numbers are low and noisy)' : ' (a quiet machine)'}.`,
    'Median time per call, as GFLOP/s (conv: 2 x MACs; LRN and pooling: elementwise operations). Ratios above 1 mean gpunet is faster.',
    'TF.js runs grouped convolutions as split + conv + concat; it has no filter-gradient kernel on wasm (n/a).',
    '',
    ...lines,
    '',
    // Ends with a blank line, so the next heading stays apart from it.
    '',
  ].join('\n');
  let doc = '';
  try {
    doc = readFileSync(path, 'utf8');
  } catch {
    doc =
      '# Benchmarks\n\nNumbers from `pnpm bench`, each with its machine and command. Speed is reported as ratios to a peer measured in the same run; tests never assert timings.\n\n';
  }
  const start = doc.indexOf(heading);
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + heading.length);
    doc = doc.slice(0, start) + section + (end >= 0 ? doc.slice(end + 1) : '');
  } else {
    doc = `${doc.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, doc);
  console.log(`wrote ${path.pathname}`);
}
process.exit(0);
