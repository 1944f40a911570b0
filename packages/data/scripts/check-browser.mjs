// Runs the browser build in headless Chromium and checks it against the Node build: PNG files
// decoded with createImageBitmap, AlexNet's augmentation, DataLoader with 0 and 2 Web Workers.
// Batches must match each other and the Node build bit for bit (PNG is lossless).
// Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH), driven through
// @gpunet/dev-chromium; no browser is downloaded.
// Run: pnpm --filter @gpunet/data check:browser
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { launchChromium, listenOnLocalhost, pageResult } from '@gpunet/dev-chromium';
import { build } from 'esbuild';
import {
  compose,
  DataLoader,
  ImageFolder,
  normalize,
  pcaLighting,
  randomCrop,
  randomHorizontalFlip,
  resize,
  SyntheticImages,
  toTensor,
  writeImageFolder,
} from '../dist/index.js';

const dir = await mkdtemp(join(tmpdir(), 'gpunet-browser-'));
const images = join(dir, 'images');
await writeImageFolder(
  new SyntheticImages({ length: 12, numClasses: 3, size: 40, seed: 4 }),
  images,
  { format: 'png' },
);

// The same pipeline on both sides.
const pipelineSource = `compose([resize(36), randomCrop(32), randomHorizontalFlip(), toTensor(), pcaLighting(), normalize({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] })])`;
const transform = compose([
  resize(36),
  randomCrop(32),
  randomHorizontalFlip(),
  toTensor(),
  pcaLighting(),
  normalize({ mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] }),
]);
const folder = new ImageFolder(images, { transform });
const files = folder.samples.map(([path, label]) => [path.slice(images.length + 1), label]);

async function summary(loader) {
  const out = [];
  for await (const { images: x, labels } of loader) {
    out.push({
      shape: x.shape,
      labels: Array.from(labels.dataSync()),
      values: Array.from(x.dataSync()),
    });
  }
  return out;
}
const nodeLoader = new DataLoader(folder, { batchSize: 5, shuffle: true, seed: 7 });
const nodeBatches = await summary(nodeLoader);

// Bundle the browser build with @gpunet/tensor inlined; the worker stays a file beside it.
const www = join(dir, 'www');
for (const [entry, name] of [
  ['dist/browser/index.js', 'index.js'],
  ['dist/browser/browser-worker.js', 'browser-worker.js'],
]) {
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: join(www, name),
    logLevel: 'error',
  });
}
await writeFile(
  join(www, 'index.html'),
  `<script type="module">
import { DataLoader, compose, normalize, pcaLighting, randomCrop, randomHorizontalFlip, resize, toTensor } from './index.js';
const files = ${JSON.stringify(files)};
const transform = ${pipelineSource};
const dataset = {
  length: files.length, classes: ['a', 'b', 'c'], transform,
  async read(i) {
    const bytes = new Uint8Array(await (await fetch('/images/' + files[i][0])).arrayBuffer());
    return { image: { bytes, source: files[i][0] }, label: files[i][1], source: files[i][0] };
  },
  get() { throw new Error('unused'); },
};
const result = {};
try {
  for (const numWorkers of [0, 2]) {
    const loader = new DataLoader(dataset, { batchSize: 5, shuffle: true, seed: 7, numWorkers });
    const out = [];
    for await (const { images, labels } of loader) {
      out.push({ shape: images.shape, labels: Array.from(labels.dataSync()), values: Array.from(images.dataSync()) });
    }
    await loader.close();
    result['workers' + numWorkers] = out;
  }
} catch (error) {
  result.error = String(error && error.stack || error);
}
globalThis.gpunetResult = result;
</script>`,
);

const types = { '.js': 'text/javascript', '.html': 'text/html', '.png': 'image/png' };
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = path.startsWith('/images/')
    ? join(images, path.slice(8))
    : join(www, path === '/' ? 'index.html' : path);
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
});
const browser = await launchChromium();
const result = await pageResult(browser, `${await listenOnLocalhost(server)}/`);
await browser.close();
server.close();
await rm(dir, { recursive: true, force: true, maxRetries: 5 });

if (result.error) {
  console.error('browser check FAILED:', result.error);
  process.exit(1);
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const checks = [
  ['browser, 0 workers vs 2 Web Workers', same(result.workers0, result.workers2)],
  ['browser vs Node (sharp), bit for bit', same(result.workers0, nodeBatches)],
];
console.log(`batches: ${result.workers0.map((b) => `[${b.shape}]`).join(' ')}`);
for (const [name, ok] of checks) console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
if (!checks.every(([, ok]) => ok)) process.exit(1);
