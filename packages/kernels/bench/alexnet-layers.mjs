#!/usr/bin/env node
/**
 * GFLOP/s of AlexNet's layers at batch 1 (or BENCH_BATCH) on the gpu.js modes, side by side with TensorFlow.js on
 * the comparable backend in the same run: webasm vs @tensorflow/tfjs-backend-wasm, cpu vs
 * @tensorflow/tfjs-backend-cpu (headlessgl, when listed, is compared with tfjs-backend-cpu too:
 * TF.js has no headless GL backend in Node). Never run by the tests.
 *
 *   pnpm --filter @gpunet/kernels build && pnpm --filter @gpunet/kernels bench
 *   BENCH_MODES=webasm,cpu BENCH_REPEATS=3 node bench/alexnet-layers.mjs
 *   xvfb-run -a env BENCH_MODES=headlessgl node bench/alexnet-layers.mjs
 *   BENCH_BATCH=16 BENCH_LAYERS=conv2,conv3,fc6 BENCH_MODES=webasm node bench/alexnet-layers.mjs
 *   BENCH_CLOCK=cpu BENCH_MODES=webasm,cpu node bench/alexnet-layers.mjs   (CPU time, see below)
 *
 * Each timing includes the readback (`await t.data()`), after one untimed warm-up run that
 * compiles the kernel; the median of BENCH_REPEATS runs is reported (a case whose warm-up takes
 * over 5 s, like TF.js cpu's filter gradient, reports that one run). FLOPs count a multiply-add
 * as 2. LRN and pooling report milliseconds only (their FLOP counts are not comparable).
 */
import * as T from '@gpunet/tensor';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../dist/index.js';

const MODES = (process.env.BENCH_MODES ?? 'webasm,cpu').split(',');
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const TFJS_OF = { webasm: 'wasm', cpu: 'cpu', headlessgl: 'cpu' };
/**
 * BENCH_CLOCK=cpu times the process's CPU time instead of the wall clock: on a machine shared
 * with other work it is the steadier measure, and a fair one for the single-threaded modes and
 * backends compared here (webasm, cpu, TF.js wasm and cpu in Node); not for headlessgl, whose
 * llvmpipe rasteriser runs threads.
 */
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu';
/** The batch of every layer (BENCH_BATCH, default 1). */
const B = Number(process.env.BENCH_BATCH ?? 1);
/** Only these layers (BENCH_LAYERS, comma-separated names: conv1,fc8,lrn1,pool1; default all). */
const LAYERS = process.env.BENCH_LAYERS?.split(',');
const wanted = (name) => !LAYERS || LAYERS.some((l) => name.startsWith(l));

const CONVS = [
  { name: 'conv1', x: [B, 3, 227, 227], w: [96, 3, 11, 11], stride: 4, padding: 0, groups: 1 },
  { name: 'conv2', x: [B, 96, 27, 27], w: [256, 48, 5, 5], stride: 1, padding: 2, groups: 2 },
  { name: 'conv3', x: [B, 256, 13, 13], w: [384, 256, 3, 3], stride: 1, padding: 1, groups: 1 },
  { name: 'conv4', x: [B, 384, 13, 13], w: [384, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
  { name: 'conv5', x: [B, 384, 13, 13], w: [256, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
];
const FCS = [
  { name: 'fc6', k: 9216, n: 4096 },
  { name: 'fc7', k: 4096, n: 4096 },
  { name: 'fc8', k: 4096, n: 1000 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median milliseconds of `run` (which returns tensors to read and dispose), after a warm-up. */
async function time(run, read) {
  const once = async () => {
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const out = run();
    await read(out);
    if (!CPU_CLOCK) return performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    return (used.user + used.system) / 1000;
  };
  const first = await once();
  if (first > 5000) return first;
  const times = [];
  for (let r = 0; r < REPEATS; r++) times.push(await once());
  return median(times);
}

const readGpunet = async (t) => {
  await t.data();
  t.dispose();
};
const readTf = async (ts) => {
  for (const t of [ts].flat()) {
    await t.data();
    t.dispose();
  }
};

const gflops = (flops, ms) => flops / ms / 1e6;
const rows = [];
function report(mode, layer, pass, flops, ms, tfMs) {
  const row = {
    mode,
    layer,
    pass,
    'gpunet ms': ms.toFixed(1),
    'gpunet GFLOP/s': flops ? gflops(flops, ms).toFixed(2) : '-',
    'TF.js ms': tfMs.toFixed(1),
    'TF.js GFLOP/s': flops ? gflops(flops, tfMs).toFixed(2) : '-',
    'gpunet / TF.js': (tfMs / ms).toFixed(2),
  };
  rows.push(row);
  console.log(Object.values(row).join('\t'));
}

/** TF.js grouped conv (NHWC): one conv per group, as TF.js has no groups argument. */
function tfConv(kind, x, w, dy, c) {
  const g = c.groups;
  const split = (t, axis) => (g === 1 ? [t] : tf.split(t, g, axis));
  const xs = split(x, 3);
  const ws = split(w, 3); // HWIO: output channels on axis 3
  const dys = dy ? split(dy, 3) : [];
  const pad =
    c.padding === 0
      ? 'valid'
      : [
          [0, 0],
          [c.padding, c.padding],
          [c.padding, c.padding],
          [0, 0],
        ];
  const outs = [];
  for (let k = 0; k < g; k++) {
    if (kind === 'forward') outs.push(tf.conv2d(xs[k], ws[k], c.stride, pad));
    if (kind === 'input') outs.push(tf.conv2dTranspose(dys[k], ws[k], xs[k].shape, c.stride, pad));
    if (kind === 'filter') {
      outs.push(
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: xs[k], dy: dys[k] },
          {
            strides: [c.stride, c.stride],
            pad,
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: ws[k].shape,
          },
        ),
      );
    }
  }
  if (g > 1) for (const t of [...xs, ...ws, ...dys]) t.dispose();
  return outs;
}

console.log(
  [
    'mode',
    'layer',
    'pass',
    'gpunet ms',
    'gpunet GFLOP/s',
    'TF.js ms',
    'TF.js GFLOP/s',
    'gpunet / TF.js',
  ].join('\t'),
);
for (const mode of MODES) {
  await T.setBackend(mode);
  await tf.setBackend(TFJS_OF[mode]);
  await tf.ready();
  for (const c of CONVS) {
    if (!wanted(c.name)) continue;
    const a = T.conv2dAttrs(c.x, c.w, { stride: c.stride, padding: c.padding, groups: c.groups });
    const x = T.randn(c.x);
    const w = T.mul(T.randn(c.w), 0.01);
    const dy = T.randn([a.batch, a.outChannels, a.outHeight, a.outWidth]);
    const flops =
      2 *
      a.batch *
      a.outChannels *
      a.outHeight *
      a.outWidth *
      (a.inChannels / a.groups) *
      a.kernelHeight *
      a.kernelWidth;
    const tx = tf.randomNormal([c.x[0], c.x[2], c.x[3], c.x[1]]);
    const tw = tf.randomNormal([c.w[2], c.w[3], c.w[1], c.w[0]]);
    const tdy = tf.randomNormal([a.batch, a.outHeight, a.outWidth, a.outChannels]);
    const passes = [
      ['forward', () => T.runKernel('Conv2d', [x, w], a)],
      ['data grad', () => T.runKernel('Conv2dBackpropInput', [dy, w], a)],
      ['filter grad', () => T.runKernel('Conv2dBackpropFilter', [x, dy], a)],
    ];
    const tfKinds = { forward: 'forward', 'data grad': 'input', 'filter grad': 'filter' };
    for (const [pass, run] of passes) {
      const ms = await time(run, readGpunet);
      // tfjs-backend-wasm 4.x registers no Conv2DBackpropFilter: report n/a there.
      const hasTf = !(
        pass === 'filter grad' &&
        tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined
      );
      const tfMs = hasTf
        ? await time(() => tfConv(tfKinds[pass], tx, tw, tdy, c), readTf)
        : Number.NaN;
      report(mode, c.name, pass, flops, ms, tfMs);
    }
    T.dispose([x, w, dy]);
    tf.dispose([tx, tw, tdy]);
  }
  for (const fc of FCS) {
    if (!wanted(fc.name)) continue;
    const x = T.randn([B, fc.k]);
    const w = T.randn([fc.n, fc.k]);
    const tx = tf.randomNormal([B, fc.k]);
    const tw = tf.randomNormal([fc.n, fc.k]);
    const ms = await time(() => T.linear(x, w), readGpunet);
    const tfMs = await time(() => tf.matMul(tx, tw, false, true), readTf);
    report(mode, fc.name, 'forward', 2 * B * fc.k * fc.n, ms, tfMs);
    T.dispose([x, w]);
    tf.dispose([tx, tw]);
  }
  if (wanted('lrn1') || wanted('pool1')) {
    const x = T.randn([B, 96, 55, 55]);
    const tx = tf.randomNormal([B, 55, 55, 96]);
    const ms = await time(
      () => T.localResponseNorm(x, { size: 5, alpha: 5e-4, beta: 0.75, k: 2 }),
      readGpunet,
    );
    const tfMs = await time(() => tf.localResponseNormalization(tx, 2, 2, 1e-4, 0.75), readTf);
    report(mode, `lrn1 [${B}, 96, 55, 55]`, 'forward', 0, ms, tfMs);
    const pms = await time(() => T.maxPool2d(x, { kernelSize: 3, stride: 2 }), readGpunet);
    const ptfMs = await time(() => tf.maxPool(tx, 3, 2, 'valid'), readTf);
    report(mode, `pool1 [${B}, 96, 55, 55]`, 'forward', 0, pms, ptfMs);
    T.dispose(x);
    tf.dispose(tx);
  }
}
console.log(
  `\nclock: ${CPU_CLOCK ? 'process CPU time' : 'wall'}; machine: ${(await import('node:os')).cpus().length} cores (${(await import('node:os')).cpus()[0].model}), Node ${process.version}, tfjs ${tf.version_core}`,
);
