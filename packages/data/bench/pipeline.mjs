// Images per second for AlexNet's training input pipeline: JPEG decode, resize the shorter side
// to 256, random 227x227 crop, horizontal flip, PCA lighting, normalize, collate to NCHW float32.
// @gpunet/data with 0, 1 and 2 worker threads, against the same pipeline written directly in
// sharp (its resize, crop, flop and a per-channel linear map for lighting + normalize).
// Run: pnpm --filter @gpunet/data bench  (builds first). Options: --images N --epochs N --batch N
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tensor } from '@gpunet/tensor';
import sharp from 'sharp';
import {
  compose,
  DataLoader,
  IMAGENET_MEAN_STD,
  IMAGENET_PCA,
  ImageFolder,
  normalize,
  pcaLighting,
  pcaLightingOffset,
  randomCrop,
  randomHorizontalFlip,
  resize,
  resizeOutputSize,
  SyntheticImages,
  sampleGenerator,
  toTensor,
} from '../dist/index.js';

const { values: args } = parseArgs({
  // `pnpm bench -- --images 64` passes the '--' through: drop it.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    images: { type: 'string', default: '128' },
    epochs: { type: 'string', default: '2' },
    batch: { type: 'string', default: '32' },
  },
});
const count = Number(args.images);
const epochs = Number(args.epochs);
const batchSize = Number(args.batch);

// Generated JPEGs of ImageNet's typical 500x375, quality 90.
const root = await mkdtemp(join(tmpdir(), 'gpunet-bench-'));
const synthetic = new SyntheticImages({ length: count, numClasses: 10, size: 500, seed: 1 });
for (let i = 0; i < count; i++) {
  const raw = await synthetic.read(i);
  const dir = join(root, synthetic.classes[raw.label]);
  await mkdir(dir, { recursive: true });
  const jpeg = await sharp(raw.image.data, { raw: { width: 500, height: 500, channels: 3 } })
    .extract({ left: 0, top: 62, width: 500, height: 375 })
    .jpeg({ quality: 90 })
    .toBuffer();
  await writeFile(join(dir, `${i}.jpg`), jpeg);
}

const pipeline = compose([
  resize(256),
  randomCrop(227),
  randomHorizontalFlip(),
  toTensor(),
  pcaLighting(),
  normalize(IMAGENET_MEAN_STD),
]);

async function timeLoader(numWorkers) {
  const loader = new DataLoader(new ImageFolder(root, { transform: pipeline }), {
    batchSize,
    shuffle: true,
    seed: 1,
    numWorkers,
    prefetch: 2,
  });
  // Warm-up epoch: starts the workers and JIT-compiles the transforms.
  for await (const { images, labels } of loader) {
    images.dispose();
    labels.dispose();
  }
  const start = performance.now();
  let seen = 0;
  for (let e = 0; e < epochs; e++) {
    for await (const { images, labels } of loader) {
      seen += images.shape[0];
      images.dispose();
      labels.dispose();
    }
  }
  const seconds = (performance.now() - start) / 1000;
  await loader.close();
  return seen / seconds;
}

// The peer: the same steps in sharp, a batch's images processed concurrently on libvips threads.
async function sharpSample(path, random) {
  // The header gives the size without decoding; shorter side -> 256 by torchvision's rule.
  const meta = await sharp(path).metadata();
  const [height, width] = resizeOutputSize(meta.height, meta.width, 256);
  const top = random.integer(height - 227 + 1);
  const left = random.integer(width - 227 + 1);
  let image = sharp(path)
    .resize({ width, height, fit: 'fill', kernel: 'linear' })
    .extract({ left, top, width: 227, height: 227 });
  if (random.uniform() < 0.5) image = image.flop();
  const alphas = [random.normal() * 0.1, random.normal() * 0.1, random.normal() * 0.1];
  const offset = pcaLightingOffset(alphas, IMAGENET_PCA.eigenvalues, IMAGENET_PCA.eigenvectors);
  const { mean, std } = IMAGENET_MEAN_STD;
  // ((x / 255 + offset) - mean) / std as one linear map per channel.
  const a = [0, 1, 2].map((c) => 1 / (255 * std[c]));
  const b = [0, 1, 2].map((c) => (offset[c] - mean[c]) / std[c]);
  const data = await image.linear(a, b).raw({ depth: 'float' }).toBuffer();
  return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
}

async function timeSharp() {
  const files = [];
  for (const cls of (await readdir(root)).sort()) {
    for (const f of (await readdir(join(root, cls))).sort()) files.push(join(root, cls, f));
  }
  const plane = 227 * 227;
  const runEpoch = async (epoch) => {
    let seen = 0;
    for (let i = 0; i < files.length; i += batchSize) {
      const batch = files.slice(i, i + batchSize);
      const hwc = await Promise.all(
        batch.map((f, k) => sharpSample(f, sampleGenerator(1, epoch, i + k))),
      );
      const nchw = new Float32Array(batch.length * 3 * plane);
      hwc.forEach((px, n) => {
        if (px.length !== 3 * plane)
          throw new Error(`sharp returned ${px.length} values, expected ${3 * plane}`);
        for (let p = 0; p < plane; p++) {
          for (let c = 0; c < 3; c++) nchw[(n * 3 + c) * plane + p] = px[p * 3 + c];
        }
      });
      const images = tensor(nchw, [batch.length, 3, 227, 227]);
      seen += images.shape[0];
      images.dispose();
    }
    return seen;
  };
  await runEpoch(0);
  const start = performance.now();
  let seen = 0;
  for (let e = 1; e <= epochs; e++) seen += await runEpoch(e);
  return seen / ((performance.now() - start) / 1000);
}

const rows = [];
for (const workers of [0, 1, 2]) {
  rows.push([
    `@gpunet/data, ${workers} worker${workers === 1 ? '' : 's'}`,
    await timeLoader(workers),
  ]);
}
rows.push([
  `plain sharp (peer; libuv pool ${process.env.UV_THREADPOOL_SIZE ?? 4}, vips concurrency ${sharp.concurrency()})`,
  await timeSharp(),
]);
await rm(root, { recursive: true, force: true });

const peer = rows[rows.length - 1][1];
console.log(
  `\nAlexNet training pipeline: ${count} generated JPEGs 500x375 -> 3x227x227, batch ${batchSize}, ` +
    `${epochs} timed epochs after one warm-up, ${cpus().length} cores, Node ${process.version}\n`,
);
console.log('| pipeline | images/s | vs 0 workers | vs sharp |');
console.log('|---|---:|---:|---:|');
for (const [name, rate] of rows) {
  console.log(
    `| ${name} | ${rate.toFixed(1)} | ${(rate / rows[0][1]).toFixed(2)}x | ${(rate / peer).toFixed(2)}x |`,
  );
}
