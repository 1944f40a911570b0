// Paper AlexNet (227x227, groups 2, LRN) end to end: inference images/s at batch 1 and 16 and a
// training step at batch 16, on the wasm backend, beside TF.js's wasm backend, onnxruntime-node
// (native CPU), PyTorch (Debian's python3-torch) and our gpu.js webasm mode (@gpunet/kernels), all
// in the same run on the same machine.
// Run: pnpm --filter @gpunet/wasm bench:alexnet [-- --write]
// onnxruntime and PyTorch need /usr/bin/python3 with torch and onnx (apt: python3-torch python3-onnx);
// without them their columns read n/a.
// First: lets Node 20 run the wasm backend's fused multiply-add build, as the gpunet CLI does.
import '@gpunet/wasm/relaxed-simd';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  conv2d,
  crossEntropy,
  dropout,
  flatten,
  Generator,
  linear,
  localResponseNorm,
  maxPool2d,
  mul,
  noGrad,
  randn,
  relu,
  setBackend,
  tensor,
  tidy,
  zeros,
} from '@gpunet/tensor';
import { relaxedSimdSupported } from '@gpunet/wasm';
import '@gpunet/wasm';
import '@gpunet/kernels';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';

const cores = availableParallelism();
const loadStart = loadavg()[0];
const python = '/usr/bin/python3';
const here = fileURLToPath(new URL('.', import.meta.url));

const convs = [
  { w: [96, 3, 11, 11], stride: 4, padding: 0, groups: 1, lrn: true, pool: true },
  { w: [256, 48, 5, 5], stride: 1, padding: 2, groups: 2, lrn: true, pool: true },
  { w: [384, 256, 3, 3], stride: 1, padding: 1, groups: 1 },
  { w: [384, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
  { w: [256, 192, 3, 3], stride: 1, padding: 1, groups: 2, pool: true },
];
const fcs = [
  [4096, 9216],
  [4096, 4096],
  [1000, 4096],
];

function imagesPerSecond(step, batch, seconds = 1.5, minRuns = 3) {
  step();
  let count = 0;
  const start = performance.now();
  while (count < minRuns || performance.now() - start < seconds * 1000) {
    step();
    count++;
  }
  return (batch * count) / ((performance.now() - start) / 1000);
}

/**
 * gpunet's paper AlexNet on `backend`. Slow backends (gpu.js webasm) run one warm-up and one timed
 * call at batch 1 only: `slow` leaves the other cells n/a.
 */
async function gpunet(backend = 'wasm', slow = false) {
  await setBackend(backend);
  const generator = new Generator(0);
  // The paper's init: N(0, 0.01) weights.
  const params = [
    ...convs.flatMap((c) => [mul(randn(c.w, { generator }), 0.01), zeros([c.w[0]])]),
    ...fcs.flatMap((f) => [mul(randn(f, { generator }), 0.01), zeros([f[0]])]),
  ];
  for (const p of params) p.keep();
  const forward = (x, training) => {
    let h = x;
    convs.forEach((c, i) => {
      h = relu(
        conv2d(h, params[2 * i], {
          bias: params[2 * i + 1],
          stride: c.stride,
          padding: c.padding,
          groups: c.groups,
        }),
      );
      if (c.lrn) h = localResponseNorm(h, { size: 5, alpha: 5e-4, beta: 0.75, k: 2 });
      if (c.pool) h = maxPool2d(h, { kernelSize: 3, stride: 2 });
    });
    h = flatten(h, 1);
    fcs.forEach((_, i) => {
      h = linear(h, params[10 + 2 * i], params[11 + 2 * i]);
      if (i < 2) h = dropout(relu(h), { p: 0.5, training, generator });
    });
    return h;
  };
  const result = {};
  for (const batch of slow ? [1] : [1, 16]) {
    const x = randn([batch, 3, 227, 227], { generator });
    result[`inference${batch}`] = imagesPerSecond(
      () => tidy(() => void noGrad(() => forward(x, false)).dataSync()),
      batch,
      slow ? 0 : 1.5,
      slow ? 1 : 3,
    );
    x.dispose();
  }
  if (slow) {
    for (const p of params) p.dispose();
    return { ...result, inference16: null, train16: null };
  }
  for (const p of params) p.requiresGrad = true;
  const x = randn([16, 3, 227, 227], { generator });
  const y = tensor(
    Array.from({ length: 16 }, (_, i) => (i * 61) % 1000),
    [16],
    { dtype: 'int32' },
  );
  result.train16 = imagesPerSecond(
    () =>
      tidy(() => {
        crossEntropy(forward(x, true), y).backward();
        noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad.mul(0.01)));
            p.grad.dispose();
            p.grad = null;
          }
        });
      }),
    16,
  );
  return result;
}

async function tfjs() {
  await tf.setBackend('wasm');
  await tf.ready();
  const filters = convs.map((c) => {
    const [out, inPerGroup, kh, kw] = c.w;
    return Array.from({ length: c.groups }, () =>
      tf.mul(tf.randomNormal([kh, kw, inPerGroup, out / c.groups]), 0.01),
    );
  });
  const biases = convs.map((c) => tf.zeros([c.w[0]]));
  const weights = fcs.map(([out, inp]) => tf.mul(tf.randomNormal([inp, out]), 0.01));
  const forward = (x) =>
    tf.tidy(() => {
      let h = x;
      convs.forEach((c, i) => {
        const pad =
          c.padding === 0
            ? 'valid'
            : [
                [0, 0],
                [c.padding, c.padding],
                [c.padding, c.padding],
                [0, 0],
              ];
        const parts = c.groups === 1 ? [h] : tf.split(h, c.groups, 3);
        const ys = parts.map((p, g) => tf.conv2d(p, filters[i][g], c.stride, pad));
        h = tf.relu(tf.add(c.groups === 1 ? ys[0] : tf.concat(ys, 3), biases[i]));
        // TF.js's LRN: depthRadius 2 (size 5), alpha not divided by size: the paper's formula directly.
        if (c.lrn) h = tf.localResponseNormalization(h, 2, 2, 1e-4, 0.75);
        if (c.pool) h = tf.maxPool(h, 3, 2, 'valid');
      });
      // NHWC flatten; the order differs from NCHW but the cost does not.
      h = tf.reshape(h, [h.shape[0], -1]);
      weights.forEach((w, i) => {
        h = tf.matMul(h, w);
        if (i < 2) h = tf.relu(h);
      });
      return h;
    });
  const result = {};
  for (const batch of [1, 16]) {
    const x = tf.randomNormal([batch, 227, 227, 3]);
    result[`inference${batch}`] = imagesPerSecond(() => forward(x).dataSync(), batch);
    x.dispose();
  }
  result.train16 = null; // tfjs-backend-wasm has no Conv2DBackpropFilter kernel, so no training step
  return result;
}

async function onnxruntime(modelPath) {
  if (!modelPath) return null;
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: cores,
    interOpNumThreads: 1,
  });
  const result = { train16: null };
  for (const batch of [1, 16]) {
    const data = new Float32Array(batch * 3 * 227 * 227).map(() => Math.random());
    const feeds = { images: new ort.Tensor('float32', data, [batch, 3, 227, 227]) };
    // onnxruntime's run is asynchronous: time it with awaits.
    await session.run(feeds);
    let count = 0;
    const start = performance.now();
    while (count < 3 || performance.now() - start < 1500) {
      await session.run(feeds);
      count++;
    }
    result[`inference${batch}`] = (batch * count) / ((performance.now() - start) / 1000);
  }
  return result;
}

function pythonAvailable() {
  try {
    execFileSync(python, ['-c', 'import torch, onnx'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * The environment the PyTorch peer runs in: ours without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE,
 * which some machines set and which slow OpenBLAS (a peer measured slow makes every ratio a lie).
 */
function peerEnv() {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

const havePython = existsSync(python) && pythonAvailable();
let modelPath = null;
if (havePython) {
  modelPath = join(mkdtempSync(join(tmpdir(), 'gpunet-bench-')), 'alexnet.onnx');
  execFileSync(python, [join(here, 'alexnet_torch.py'), 'export', modelPath], { stdio: 'ignore' });
}
const rows = {
  'gpunet wasm': await gpunet(),
  'TF.js wasm (1 thread)': await tfjs(),
  'onnxruntime-node (native)': await onnxruntime(modelPath),
  'PyTorch (python3-torch)': havePython
    ? JSON.parse(
        execFileSync(python, [join(here, 'alexnet_torch.py'), 'time', String(cores)], {
          env: peerEnv(),
        }).toString(),
      )
    : null,
};
// Last: gpu.js's webasm mode leaves threads of its own behind, which would slow what runs after it.
rows['gpunet gpu.js webasm (b1 only: one timed run)'] = await gpunet('webasm', true);
const ours = rows['gpunet wasm'];
const fmt = (v) => (v ? v.toFixed(2) : 'n/a');
const lines = [
  '| runtime | inference, batch 1 (img/s) | inference, batch 16 (img/s) | training step, batch 16 (img/s) | gpunet / it (b1, b16, train) |',
  '| --- | --- | --- | --- | --- |',
];
for (const [name, r] of Object.entries(rows)) {
  const ratio = (k) => (r?.[k] ? (ours[k] / r[k]).toFixed(2) : 'n/a');
  lines.push(
    `| ${name} | ${fmt(r?.inference1)} | ${fmt(r?.inference16)} | ${fmt(r?.train16)} | ${name === 'gpunet wasm' ? '1' : `${ratio('inference1')}, ${ratio('inference16')}, ${ratio('train16')}`} |`,
  );
}
console.log(lines.join('\n'));

if (process.argv.includes('--write')) {
  const path = new URL('../../../docs/benchmarks.md', import.meta.url);
  const heading = '## @gpunet/wasm: paper AlexNet end to end';
  const section = [
    heading,
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, wasm ${relaxedSimdSupported() ? 'with relaxed SIMD (fused multiply-add)' : 'with plain SIMD'}, with \`pnpm --filter @gpunet/wasm bench:alexnet -- --write\`.`,
    `Load average (1 min) at the start and end of the run: ${loadStart.toFixed(2)} and ${loadavg()[0].toFixed(2)}${Math.max(loadStart, loadavg()[0]) > cores * 0.75 ? ' (other work shared the CPU: the numbers are low and noisy)' : ' (a quiet machine)'}.`,
    `gpunet wasm uses ${cores} threads; TF.js's wasm backend runs one thread in Node; onnxruntime and PyTorch${rows['PyTorch (python3-torch)'] ? ` ${rows['PyTorch (python3-torch)'].version}` : ''} use ${cores} threads.`,
    "The last column is gpunet's speed divided by that runtime's (above 1: gpunet is faster).",
    '',
    ...lines,
    '',
    // Ends with a blank line, so the next heading stays apart from it.
    '',
  ].join('\n');
  let doc = existsSync(path)
    ? readFileSync(path, 'utf8')
    : '# Benchmarks\n\nNumbers from `pnpm bench`, each with its machine and command. Speed is reported as ratios to a peer measured in the same run; tests never assert timings.\n';
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
