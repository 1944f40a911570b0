// @gpunet/alexnet end to end on every backend that runs in Node, beside TensorFlow.js building the
// same network from its ops (bench/tfjs-alexnet.mjs; proven the same by
// src/tfjs-same-network.test.ts and re-checked here on the run's own weights) on the comparable
// backend: images/s for inference at batch 1 and 16 and for a training step (forward,
// cross-entropy, backward, the paper's SGD step) at batch 16, for the 'paper' (227 px) and
// 'torchvision' (224 px) variants.
//
//   pnpm --filter @gpunet/alexnet bench [-- --write] [-- --variant paper] [-- --backends wasm,cpu] [-- --quick]
//
// --quick: the paper variant only (unless --variant says otherwise) and a 0.3 s timing window per
// cell instead of 1.5 s: a smoke run of every code path in a few minutes, not numbers to publish.
//
// Slow backends get a budget: batch 1 runs once after a warm-up; when one image takes longer than
// BUDGET_SECONDS_PER_IMAGE the batch-16 and training cells read "> budget" instead of running
// for minutes. headlessgl needs an X display: the script re-runs itself under xvfb-run when there
// is none. The browser modes (webgl2, webgl, webgpu) are measured in headless Chromium beside TF.js
// webgl/webgpu by bench/browser.mjs, which this script runs at the end with the same flags.
// First: lets Node 20 run the wasm backend's fused multiply-add build, as the gpunet CLI does.
import '@gpunet/wasm/relaxed-simd';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { alexnet } from '@gpunet/alexnet';
import { probeMode } from '@gpunet/kernels';
import { Generator, noGrad, randn, setBackend, tensor } from '@gpunet/tensor';
import { relaxedSimdSupported } from '@gpunet/wasm';
import '@gpunet/wasm';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { build } from 'esbuild';
import { writeBenchSection } from './doc.mjs';
import { gpunetSteps } from './steps.mjs';
import { stateDictArrays, tfjsAlexNet } from './tfjs-alexnet.mjs';

/**
 * Registers TF.js's gradients, without which its training step throws ("gradient function not
 * found for RealDiv"). tfjs-core alone registers none, and its `dist/register_all_gradients.js`
 * (what browser-entry.mjs imports, bundled) imports without file extensions, which Node's ESM
 * loader rejects: bundled by esbuild into one file it loads, and registers into the gradient
 * registry that tfjs-core keeps on globalThis, which the engine of its Node entry reads.
 */
async function registerTfjsGradients() {
  const out = join(mkdtempSync(join(tmpdir(), 'gpunet-tfjs-gradients-')), 'gradients.mjs');
  await build({
    stdin: {
      contents: "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
      resolveDir: fileURLToPath(new URL('.', import.meta.url)),
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  await import(pathToFileURL(out).href);
}
if (!process.env.DISPLAY && !process.env.GPUNET_NO_XVFB && hasXvfb()) {
  const rerun = spawnSync('xvfb-run', ['-a', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, GPUNET_NO_XVFB: '1' },
  });
  process.exit(rerun.status ?? 1);
}

function hasXvfb() {
  try {
    execFileSync('sh', ['-c', 'command -v xvfb-run'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

await registerTfjsGradients();

const BUDGET_SECONDS_PER_IMAGE = 1;
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1].split(',') : fallback;
};
const quick = process.argv.includes('--quick');
const variants = option(
  '--variant',
  option('--variants', quick ? ['paper'] : ['paper', 'torchvision']),
);
const WINDOW_MS = quick ? 300 : 1500;
/** Our backend, and the TF.js backend it is compared with (null: no comparable one). */
const PAIRS = {
  wasm: 'wasm',
  webasm: 'wasm',
  cpu: 'cpu',
  reference: 'cpu',
  headlessgl: null,
};
/** The gpu.js browser modes: measured in headless Chromium by bench/browser.mjs, run at the end. */
const BROWSER_MODES = ['webgl2', 'webgl', 'webgpu'];
const requested = option('--backends', [...Object.keys(PAIRS), 'webgl2', 'webgpu']);
const backends = requested.filter((b) => !BROWSER_MODES.includes(b));
const browserModes = requested.filter((b) => BROWSER_MODES.includes(b));
const cores = availableParallelism();
const loadStart = loadavg()[0];

/** Images/s of `step` (which processes `batch` images): a warm-up, then runs for WINDOW_MS (at least `minRuns`). */
async function imagesPerSecond(step, batch, minRuns = 2) {
  await step();
  let count = 0;
  const start = performance.now();
  while (count < minRuns || performance.now() - start < WINDOW_MS) {
    await step();
    count++;
  }
  return (batch * count) / ((performance.now() - start) / 1000);
}

/** The three cells for one runtime: inference b1, b16, training b16; slow ones stop after b1. */
async function measure({ infer, train }) {
  const cells = {};
  cells.b1 = await imagesPerSecond(() => infer(1), 1, 1);
  const slow = 1 / cells.b1 > BUDGET_SECONDS_PER_IMAGE;
  cells.b16 = slow ? '> budget' : await imagesPerSecond(() => infer(16), 16, 1);
  cells.train = slow ? '> budget' : train ? await imagesPerSecond(train, 16, 1) : null;
  return cells;
}

const inputs = new Map();
async function input(batch, size) {
  const key = `${batch}x${size}`;
  if (!inputs.has(key)) {
    // Read asynchronously: webgpu has no synchronous reads.
    const values = await randn([batch, 3, size, size], { generator: new Generator(batch) }).data();
    inputs.set(key, values);
  }
  return inputs.get(key);
}

async function gpunetCells(backend, variant) {
  await setBackend(backend);
  const model = alexnet({ variant, init: 'pytorch', seed: 0 });
  const size = model.options.inputSize;
  const xs = {
    1: tensor(await input(1, size), [1, 3, size, size]),
    16: tensor(await input(16, size), [16, 3, size, size]),
  };
  model.eval();
  const labels = tensor(
    Array.from({ length: 16 }, (_, i) => (i * 61) % 1000),
    [16],
    { dtype: 'int32' },
  );
  const { infer, train, optimizer } = gpunetSteps(model, xs, labels);
  const cells = await measure({ infer, train });
  const weights = await stateDictArrays(model);
  const logits = Array.from(await noGrad(() => model.forward(xs[1])).data());
  optimizer.dispose?.();
  for (const t of [...Object.values(xs), labels, ...model.parameters()]) t.dispose();
  return { cells, weights, logits };
}

async function tfjsCells(tfBackend, variant, weights) {
  await tf.setBackend(tfBackend);
  await tf.ready();
  const size = variant === 'paper' ? 227 : 224;
  const net = tfjsAlexNet(variant, weights, { trainable: true });
  const xs = {
    1: tf.transpose(tf.tensor4d(await input(1, size), [1, 3, size, size]), [0, 2, 3, 1]),
    16: tf.transpose(tf.tensor4d(await input(16, size), [16, 3, size, size]), [0, 2, 3, 1]),
  };
  const infer = async (batch) => {
    const y = net.forward(xs[batch]);
    await y.data();
    y.dispose();
  };
  // tfjs-backend-wasm registers no Conv2DBackpropFilter kernel: no training step there.
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => (i * 61) % 1000),
      'int32',
    ),
    1000,
  );
  const optimizer = tf.train.momentum(0.01, 0.9);
  const train =
    tfBackend === 'wasm'
      ? null
      : async () => {
          const cost = optimizer.minimize(
            () => tf.losses.softmaxCrossEntropy(labels, net.forward(xs[16])),
            true,
          );
          await cost.data();
          cost.dispose();
        };
  const cells = await measure({ infer, train });
  const logits = Array.from(await net.forward(xs[1]).data());
  net.dispose();
  tf.dispose([xs[1], xs[16], labels]);
  return { cells, logits };
}

const rows = [];
const checks = [];
const tfjsDone = new Map();
for (const variant of variants) {
  for (const backend of backends) {
    const name = backend === 'wasm' || backend === 'reference' ? backend : `${backend} (gpu.js)`;
    if (backend in PAIRS && backend !== 'wasm' && backend !== 'reference') {
      const support = probeMode(backend);
      if (!support.isSupported) {
        rows.push({ variant, name, cells: null, note: support.reason.split(/; | \(/)[0] });
        continue;
      }
    }
    process.stderr.write(`${variant} on ${name}...\n`);
    let ours;
    try {
      ours = await gpunetCells(backend, variant);
    } catch (error) {
      // A backend that cannot run the model says why in the table (not a crash of the bench).
      const message = String(error?.message ?? error).split('; ')[0];
      rows.push({ variant, name, cells: null, note: `fails: ${message}` });
      continue;
    }
    const peer = PAIRS[backend];
    let theirs = null;
    if (peer) {
      const key = `${peer}/${variant}`;
      if (!tfjsDone.has(key)) {
        process.stderr.write(`${variant} on TF.js ${peer}...\n`);
        tfjsDone.set(key, await tfjsCells(peer, variant, ours.weights));
        const t = tfjsDone.get(key);
        const scale = Math.max(...ours.logits.map(Math.abs));
        const diff = Math.max(...ours.logits.map((v, i) => Math.abs(v - t.logits[i])));
        checks.push(
          `${variant}: gpunet ${backend} vs TF.js ${peer} on the same weights and image: max |logit difference| ${diff.toExponential(2)} (logits up to ${scale.toFixed(3)})`,
        );
      }
      theirs = tfjsDone.get(key);
    }
    rows.push({
      variant,
      name,
      cells: ours.cells,
      peer: peer ? `TF.js ${peer}` : null,
      peerCells: theirs?.cells ?? null,
    });
  }
}

const fmt = (v) =>
  typeof v === 'number' ? v.toFixed(2) : v === null || v === undefined ? 'n/a' : v;
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' ? (a / b).toFixed(2) : 'n/a';
const lines = [
  '| variant | gpunet backend | inference b1 | inference b16 | train b16 | TF.js peer | its b1 | its b16 | its train b16 | gpunet / TF.js (b1, b16, train) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
for (const r of rows) {
  if (!r.cells) {
    lines.push(`| ${r.variant} | ${r.name} | n/a: ${r.note} | | | | | | | |`);
    continue;
  }
  const p = r.peerCells;
  lines.push(
    `| ${r.variant} | ${r.name} | ${fmt(r.cells.b1)} | ${fmt(r.cells.b16)} | ${fmt(r.cells.train)} | ${r.peer ?? 'none in Node'} | ${fmt(p?.b1)} | ${fmt(p?.b16)} | ${fmt(p?.train)} | ${p ? `${ratio(r.cells.b1, p.b1)}, ${ratio(r.cells.b16, p.b16)}, ${ratio(r.cells.train, p.train)}` : 'n/a'} |`,
  );
}
const loadEnd = loadavg()[0];
const notes = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, TF.js ${tf.version_core}, wasm ${relaxedSimdSupported() ? 'with relaxed SIMD (fused multiply-add)' : 'with plain SIMD'}, with \`pnpm --filter @gpunet/alexnet bench -- ${process.argv
    .slice(2)
    .filter((a) => a !== '--')
    .join(' ')}\`.`,
  `Load average (1 min) at the start and end: ${loadStart.toFixed(2)} and ${loadEnd.toFixed(2)}${Math.max(loadStart, loadEnd) > cores * 0.75 ? ' (other work shared the CPU: low and noisy numbers)' : ' (a quiet machine)'}.`,
  'Images per second. gpunet wasm uses every core; TF.js wasm one thread (Node); the other gpu.js modes and the reference backend one. "> budget": one image took over 1 s, so the batch-16 cells were not run. tfjs-backend-wasm has no filter-gradient kernel, so no training step.',
  `The same network on both sides: ${checks.join('; ')}.`,
];
console.log([...notes, '', ...lines].join('\n'));

if (process.argv.includes('--write'))
  writeBenchSection(
    '## @gpunet/alexnet: AlexNet on every Node backend, beside TF.js',
    notes,
    lines,
  );
if (browserModes.length > 0 && !process.env.GPUNET_NO_BROWSER) {
  const passOn = [];
  for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    if (a === '--backends') i++;
    else if (a !== '--') passOn.push(a);
  }
  const browserRun = spawnSync(
    process.execPath,
    [
      new URL('./browser.mjs', import.meta.url).pathname,
      '--modes',
      browserModes.join(','),
      ...passOn,
    ],
    { stdio: 'inherit' },
  );
  process.exit(browserRun.status ?? 1);
}
process.exit(0);
