#!/usr/bin/env node
/**
 * End-to-end test of the web demo in headless Chromium (SwiftShader flags of docs/design.md).
 * Serves the built app (web/dist) with cross-origin isolation headers and checks:
 *  1. the bundled MNIST model's accuracy on its 50 test digits, as the page shows it, equals
 *     `gpunet eval` (the Node CLI) on the same digits written as IDX files;
 *  2. on the reference backend (the oracle) and each mode of GPUNET_WEB_MODES (default
 *     "webgl2,webgpu,wasm"; a mode that cannot start FAILS): classifying test digits draws the
 *     top-5 bars, the 23-module timing table, filters and maps, with logits within 1e-3
 *     (relative, floor 1) of the reference backend's; a drawn stroke is classified;
 *  3. loading each weights kind and classifying, logits compared with PyTorch's where a fixture
 *     has them: torchvision-layout .pth written by PyTorch (packages/alexnet/fixtures/
 *     torchvision_small.pth), the full-size paper-layout .pth (paper_pattern.pth.gz, 244 MB
 *     unzipped: the big-file path with its progress bar), a mini .safetensors without metadata;
 *  4. bad files: a truncated .pth, a .safetensors of the wrong shapes, a text file as an image:
 *     each gives one sentence in the page naming the file, and the model is kept;
 *  5. training on generated pictures of two named classes (horizontal and vertical stripes) with
 *     the digit model's frozen features reaches held-out accuracy >= 0.9; the downloaded
 *     .safetensors loads in `gpunet predict` and gives the page's probabilities;
 *  6. "compare backends" times every usable backend;
 *  7. no console errors and no page errors anywhere.
 * GPUNET_WEB_URL=<url> tests a page served elsewhere (e.g. the dev server) instead of web/dist.
 * Screenshots go to apps/demo/test-output/; with --docs the classify, train, compare and
 * filters ones are copied to docs/img/demo-web*.png.
 *
 *   pnpm --filter @gpunet/demo check:browser
 *   GPUNET_WEB_MODES=webgl2,wasm node test/web/run.mjs
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); no browser is downloaded.
 */
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { launchChromium, listenOnLocalhost } from '@gpunet/dev-chromium';
import sharp from 'sharp';

const appRoot = fileURLToPath(new URL('../..', import.meta.url));
const repoRoot = join(appRoot, '..', '..');
const distDir = join(appRoot, 'web', 'dist');
const outputDir = join(appRoot, 'test-output');
const docsImages = join(repoRoot, 'docs', 'img');
const fixtures = join(repoRoot, 'packages', 'alexnet', 'fixtures');
const cli = join(appRoot, 'bin', 'gpunet.mjs');
const isDocs = process.argv.includes('--docs');
const modes = (process.env.GPUNET_WEB_MODES ?? 'webgl2,webgpu,wasm').split(',').filter(Boolean);
const DIGITS = [0, 7, 13, 22, 38]; // test digits classified on every backend
const LOGIT_TOLERANCE = 1e-3;
// Training: 2 classes x 20 generated pictures (every 5th held out: 8), frozen digit features,
// 15 epochs of Adam; measured held-out accuracy 1.0. Chance is 0.5.
const TRAIN_MIN_ACCURACY = 0.9;
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.json': 'application/json',
};

const server = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname));
  const file = join(distDir, path === '/' ? 'index.html' : path);
  try {
    const body = await readFile(file);
    response.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
    });
    response.end(body);
  } catch {
    response.writeHead(404).end();
  }
});
const origin = process.env.GPUNET_WEB_URL?.replace(/\/$/, '') ?? (await listenOnLocalhost(server));

// Chromium's fake camera (a moving test pattern) stands in for a webcam, allowed without a prompt.
const browser = await launchChromium({
  args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
});
await mkdir(outputDir, { recursive: true });
const work = await mkdtemp(join(tmpdir(), 'gpunet-web-test-'));
const failures = [];
const fail = (line) => {
  failures.push(line);
  console.log(`FAIL ${line}`);
};
const check = (isOk, line) => {
  if (!isOk) fail(line);
};

async function screenshot(page, name, docsName) {
  const shot = join(outputDir, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  if (isDocs && docsName) await copyFile(shot, join(docsImages, docsName));
}

/** Opens the page on a backend and waits until the bundled model is loaded (or an error shows). */
async function openPage(backend) {
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  page.on('pageerror', (error) => fail(`${backend}: page error: ${error.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') fail(`${backend}: console error: ${m.text()}`);
  });
  await page.goto(`${origin}/?backend=${backend}`);
  const status = await waitStatus(page);
  const radio = page.locator(`input[name=backend][value=${backend}]`);
  if ((await radio.count()) === 0) throw new Error(`${backend}: the page offers no such backend`);
  if (await radio.isDisabled()) {
    const reason = await radio.locator('xpath=..').textContent();
    throw new Error(`${backend} cannot start: ${(reason ?? '').trim()}`);
  }
  if (status.state !== 'ready') throw new Error(`${backend}: ${status.text}`);
  if (!(await radio.isChecked())) throw new Error(`${backend}: the page did not select it`);
  return page;
}

/** Waits for the page's queue to settle; `previous` is a status text to see change first. */
async function waitStatus(page) {
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.getElementById('status')?.dataset.state ?? ''),
    null,
    { timeout: 300_000, polling: 100 },
  );
  return page.evaluate(() => {
    const status = document.getElementById('status');
    return { state: status.dataset.state, text: status.textContent };
  });
}

/** Runs an action that queues work, and waits for the queue to settle afterwards. */
async function act(page, action) {
  await page.evaluate(() => {
    document.getElementById('status').dataset.state = 'waiting';
  });
  await action();
  return waitStatus(page);
}

async function readResult(page) {
  return page.evaluate(() => {
    const result = document.getElementById('result');
    return {
      state: result.dataset.state,
      backend: result.dataset.backend,
      logits: JSON.parse(result.dataset.logits ?? '[]'),
      layerTypes: [...document.querySelectorAll('#timings td:nth-child(2)')].map(
        (td) => td.textContent,
      ),
      canvasWidths: ['filters', 'maps', 'preview'].map((id) => document.getElementById(id).width),
      bars: [...document.querySelectorAll('#bars .bar')].map((bar) => ({
        label: bar.dataset.label,
        probability: Number(bar.dataset.probability),
        width: bar.querySelector('.fill').getBoundingClientRect().width,
      })),
    };
  });
}

async function classifyDigit(page, index) {
  const status = await act(page, () => page.click(`button[data-sample="${index}"]`));
  if (status.state !== 'ready') throw new Error(status.text);
  return readResult(page);
}

/** The logits of raw model inputs through the page's loaded model (its test seam). */
function logitsOf(page, values) {
  return page.evaluate((v) => globalThis.gpunetDemo.classifyInput(v), values);
}

function compareLogits(what, got, want) {
  let worst = 0;
  if (got.length !== want.length) {
    fail(`${what}: ${got.length} logits, expected ${want.length}`);
    return worst;
  }
  got.forEach((v, i) => {
    const diff = Math.abs(v - want[i]);
    worst = Math.max(worst, diff / Math.max(1, Math.abs(want[i])));
    if (!(diff <= LOGIT_TOLERANCE * Math.max(1, Math.abs(want[i])))) {
      fail(`${what}: logit ${i} ${v} vs ${want[i]}`);
    }
  });
  return worst;
}

/** A minimal .safetensors reader/writer for fixtures (F32 only). */
function readSafetensors(bytes) {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString());
  const body = bytes.subarray(8 + length);
  const tensors = new Map();
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const [a, b] = entry.data_offsets;
    const copy = Buffer.from(body.subarray(a, b));
    tensors.set(key, {
      shape: entry.shape,
      data: new Float32Array(copy.buffer, copy.byteOffset, (b - a) / 4),
    });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
}
function writeSafetensors(tensors, metadata) {
  const header = {};
  let offset = 0;
  for (const [key, t] of tensors) {
    header[key] = {
      dtype: 'F32',
      shape: t.shape,
      data_offsets: [offset, offset + t.data.byteLength],
    };
    offset += t.data.byteLength;
  }
  if (metadata) header.__metadata__ = metadata;
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([
    length,
    json,
    ...[...tensors.values()].map((t) =>
      Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
    ),
  ]);
}

function gpunet(args) {
  const out = execFileSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8' });
  return out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
}

// ---- 1. the bundled model against the CLI ----------------------------------------------------
let cliEval;
const digitsDir = join(appRoot, 'web', 'public', 'digits');
const digitIndex = JSON.parse(await readFile(join(digitsDir, 'index.json'), 'utf8'));
{
  const images = Buffer.alloc(16 + digitIndex.length * 784);
  images.writeUInt32BE(0x803, 0);
  images.writeUInt32BE(digitIndex.length, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  const labels = Buffer.alloc(8 + digitIndex.length);
  labels.writeUInt32BE(0x801, 0);
  labels.writeUInt32BE(digitIndex.length, 4);
  for (const [i, { file, label }] of digitIndex.entries()) {
    const { data, info } = await sharp(join(digitsDir, file))
      .raw()
      .toBuffer({ resolveWithObject: true });
    // sharp writes the grey digits as RGB PNGs with R = G = B; the IDX file takes one channel.
    if (info.width !== 28 || info.height !== 28) throw new Error(`${file}: not 28x28`);
    for (let p = 0; p < 784; p++) images[16 + i * 784 + p] = data[p * info.channels];
    labels[8 + i] = label;
  }
  const idx = join(work, 'idx');
  await mkdir(idx);
  for (const prefix of ['train', 't10k']) {
    await writeFile(join(idx, `${prefix}-images-idx3-ubyte.gz`), gzipSync(images));
    await writeFile(join(idx, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(labels));
  }
  cliEval = gpunet([
    'eval',
    '--weights',
    join(appRoot, 'web', 'public', 'mnist-mini.safetensors'),
    '--data',
    `idx:${idx}`,
  ]).find((e) => e.event === 'eval');
  console.log(
    `gpunet eval on the ${cliEval.center.count} bundled digits: top-1 ${cliEval.center.top1}`,
  );
}

// ---- 2. the reference backend, then every mode ------------------------------------------------
const expected = {};
{
  const page = await openPage('reference');
  const accuracy = await page.evaluate(() => {
    const line = document.getElementById('sample-accuracy');
    return {
      correct: Number(line.dataset.correct),
      total: Number(line.dataset.total),
      text: line.textContent,
    };
  });
  console.log(`page: ${accuracy.text}`);
  check(
    accuracy.total === cliEval.center.count &&
      accuracy.correct === Math.round(cliEval.center.top1 * cliEval.center.count),
    `the page's accuracy ${accuracy.correct}/${accuracy.total} differs from gpunet eval's ${cliEval.center.top1} of ${cliEval.center.count}`,
  );
  check(
    accuracy.correct / accuracy.total >= 0.9,
    `the bundled model gets only ${accuracy.correct}/${accuracy.total}`,
  );
  for (const i of DIGITS) {
    expected[i] = await classifyDigit(page, i);
    const top = expected[i].bars[0];
    console.log(
      `reference digit ${i} (a ${digitIndex[i].label}): top-1 ${top.label} ${top.probability.toFixed(4)}`,
    );
  }
  await page.close();
}

for (const mode of modes) {
  const started = Date.now();
  let page;
  try {
    page = await openPage(mode);
    let worst = 0;
    for (const i of DIGITS) {
      const got = await classifyDigit(page, i);
      const want = expected[i];
      if (got.state !== 'done' || got.backend !== mode)
        throw new Error(`digit ${i}: no result on ${mode}`);
      check(
        got.bars.length === 5 && got.bars.every((b) => b.width > 0 || b.probability < 0.005),
        `${mode} digit ${i}: bars ${JSON.stringify(got.bars)}`,
      );
      check(
        got.bars[0].label === want.bars[0].label,
        `${mode} digit ${i}: top-1 ${got.bars[0].label}, reference ${want.bars[0].label}`,
      );
      const relus = got.layerTypes.filter((type) => type === 'ReLU').length;
      check(
        got.layerTypes.length === 23 && relus === 7,
        `${mode} digit ${i}: timings table lists ${got.layerTypes.join(' ')}`,
      );
      check(
        got.canvasWidths.every((w) => w > 0),
        `${mode} digit ${i}: filters, maps or input not drawn`,
      );
      worst = Math.max(worst, compareLogits(`${mode} digit ${i}`, got.logits, want.logits));
    }
    if (mode === 'wasm') {
      // A drawn stroke is classified (what it is called depends on the hand: not asserted).
      await page.locator('#pad').scrollIntoViewIfNeeded();
      const pad = await page.locator('#pad').boundingBox();
      await page.evaluate(() => {
        document.getElementById('result').dataset.state = 'waiting';
      });
      const status = await act(page, async () => {
        await page.mouse.move(pad.x + pad.width / 2, pad.y + 30);
        await page.mouse.down();
        await page.mouse.move(pad.x + pad.width / 2 + 5, pad.y + pad.height / 2, { steps: 5 });
        await page.mouse.move(pad.x + pad.width / 2 + 8, pad.y + pad.height - 30, { steps: 5 });
        await page.mouse.up();
      });
      const drawn = await readResult(page);
      console.log(`wasm: a drawn stroke -> ${drawn.bars[0]?.label} (${status.text})`);
      check(
        drawn.state === 'done' && drawn.bars.length === 5,
        `drawing: no result (${status.text})`,
      );
      // A camera frame (the fake device) is classified.
      await page.click('#camera');
      await page.waitForFunction(
        () => {
          const video = document.getElementById('camera-video');
          return (
            (!video.hidden && video.videoWidth > 0) ||
            document.getElementById('status').dataset.state === 'error'
          );
        },
        null,
        { timeout: 60_000, polling: 100 },
      );
      const frame = await act(page, () => page.click('#camera-capture'));
      const framed = await readResult(page);
      console.log(`wasm: a camera frame -> ${framed.bars[0]?.label} (${frame.text})`);
      check(frame.state === 'ready' && framed.bars.length === 5, `camera: ${frame.text}`);
      await page.evaluate(() => {
        const video = document.getElementById('camera-video');
        for (const track of video.srcObject?.getTracks() ?? []) track.stop();
        video.hidden = true;
        document.getElementById('camera-capture').hidden = true;
      });
      await classifyDigit(page, DIGITS[1]);
      await screenshot(page, 'web-classify', 'demo-web.png');
      // A phone's width: nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 390, `at 390 px the page is ${width} px wide`);
      await screenshot(page, 'web-phone', 'demo-web-phone.png');
    }
    console.log(
      `${mode}: ${DIGITS.length} digits, largest logit difference from the reference ${worst.toExponential(2)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  } catch (error) {
    fail(`${mode}: ${error instanceof Error ? error.message : String(error)}`);
  }
  await page?.close();
}

// ---- 3, 4, 5, 6 on wasm ----------------------------------------------------------------------
const page = await openPage('wasm');
async function loadWeights(path, name) {
  const status = await act(page, () => page.setInputFiles('#weights-file', path));
  const what = await page.textContent('#weights-what');
  console.log(`${name}: ${status.state}: ${status.state === 'ready' ? what : status.text}`);
  return { status, what };
}
try {
  // torchvision layout, written by PyTorch; logits against PyTorch's.
  {
    const { status, what } = await loadWeights(
      join(fixtures, 'torchvision_small.pth'),
      'torchvision_small.pth',
    );
    check(
      status.state === 'ready' && /torchvision AlexNet, 224×224 RGB, 10 classes/.test(what),
      `torchvision_small.pth: ${status.text} / ${what}`,
    );
    const io = readSafetensors(await readFile(join(fixtures, 'torchvision_small_io.safetensors')));
    const x = io.tensors.get('x');
    const y = io.tensors.get('y');
    const plane = 3 * 224 * 224;
    const logits = await logitsOf(page, [...x.data.subarray(0, plane)]);
    const worst = compareLogits('torchvision_small.pth vs PyTorch', logits, [
      ...y.data.subarray(0, 10),
    ]);
    console.log(`torchvision_small.pth: logits within ${worst.toExponential(2)} of PyTorch's`);
    const photo = await act(page, () =>
      page.setInputFiles('#image-file', join(digitsDir, digitIndex[3].file)),
    );
    const result = await readResult(page);
    check(
      photo.state === 'ready' && result.bars.length === 5,
      `torchvision_small.pth: classifying an image: ${photo.text}`,
    );
  }
  // A mini .safetensors without metadata: shapes say 28x28 grey, 10 classes; same logits as the bundled model.
  {
    const bundled = readSafetensors(
      await readFile(join(appRoot, 'web', 'public', 'mnist-mini.safetensors')),
    );
    const path = join(work, 'mini-no-metadata.safetensors');
    await writeFile(path, writeSafetensors(bundled.tensors));
    const input = Array.from({ length: 784 }, (_, i) => Math.sin(i / 10));
    await act(page, () => page.click('#weights-bundled'));
    const want = await logitsOf(page, input);
    const { status, what } = await loadWeights(path, 'mini-no-metadata.safetensors');
    check(
      status.state === 'ready' && /mini AlexNet, 28×28 grey, 10 classes/.test(what),
      `mini .safetensors: ${status.text} / ${what}`,
    );
    const got = await logitsOf(page, input);
    compareLogits('mini .safetensors vs the bundled model', got, want);
    const digit = await classifyDigit(page, DIGITS[2]);
    check(
      digit.bars[0].label === `class ${digitIndex[DIGITS[2]].label}`,
      `mini .safetensors: digit ${DIGITS[2]} -> ${digit.bars[0].label}`,
    );
  }
  // Bad files: each one sentence naming the file; the model is kept.
  {
    const truncated = join(work, 'truncated.pth');
    const full = await readFile(join(fixtures, 'torchvision_small.pth'));
    await writeFile(truncated, full.subarray(0, Math.floor(full.length / 2)));
    const a = await act(page, () => page.setInputFiles('#weights-file', truncated));
    console.log(`truncated.pth: ${a.text}`);
    check(
      a.state === 'error' &&
        /^truncated\.pth \(\d+ bytes\) cannot be read as a PyTorch \.pth/.test(a.text),
      `truncated .pth: ${a.text}`,
    );
    const bundled = readSafetensors(
      await readFile(join(appRoot, 'web', 'public', 'mnist-mini.safetensors')),
    );
    bundled.tensors.set('classifier.6.bias', { shape: [7], data: new Float32Array(7) });
    const wrong = join(work, 'wrong-shape.safetensors');
    await writeFile(wrong, writeSafetensors(bundled.tensors));
    const b = await act(page, () => page.setInputFiles('#weights-file', wrong));
    console.log(`wrong-shape.safetensors: ${b.text}`);
    check(
      b.state === 'error' &&
        b.text.startsWith('wrong-shape.safetensors') &&
        b.text.includes('classifier.6.bias'),
      `wrong shape: ${b.text}`,
    );
    const c = await act(page, () =>
      page.setInputFiles('#image-file', {
        name: 'notes.txt',
        mimeType: 'text/plain',
        buffer: Buffer.from('not pixels'),
      }),
    );
    console.log(`notes.txt: ${c.text}`);
    check(
      c.state === 'error' && /^notes\.txt \(10 bytes\) is not an image/.test(c.text),
      `text as image: ${c.text}`,
    );
    const kept = await page.textContent('#weights-name');
    check(
      kept.startsWith('mini-no-metadata.safetensors'),
      `after bad files the page holds ${kept}`,
    );
  }
  // The paper's full-size layout (244 MB): progress, Figure 3, logits against PyTorch's.
  {
    const path = join(work, 'paper_pattern.pth');
    await writeFile(path, gunzipSync(await readFile(join(fixtures, 'paper_pattern.pth.gz'))));
    const sawProgress = page.waitForFunction(
      () => !document.getElementById('load-progress').hidden,
      null,
      { timeout: 60_000, polling: 50 },
    );
    const started = Date.now();
    const { status, what } = await loadWeights(path, 'paper_pattern.pth');
    await sawProgress;
    console.log(`paper_pattern.pth loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    check(
      status.state === 'ready' &&
        /paper AlexNet, 227×227 RGB, 1000 classes \(ImageNet\), 60,965,224 parameters/.test(what),
      `paper .pth: ${status.text} / ${what}`,
    );
    const io = JSON.parse(await readFile(join(fixtures, 'paper_pattern_io.json'), 'utf8'));
    const input = new Float32Array(3 * 227 * 227);
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 227; h++)
        for (let w = 0; w < 227; w++)
          input[(c * 227 + h) * 227 + w] = Math.sin(0.05 * h * (c + 1)) * Math.cos(0.07 * w + c);
    const logits = await logitsOf(page, [...input]);
    const worst = compareLogits('paper_pattern.pth vs PyTorch', logits, io.logits.flat());
    console.log(`paper_pattern.pth: logits within ${worst.toExponential(2)} of PyTorch's`);
    await act(page, () =>
      page.setInputFiles('#image-file', join(repoRoot, 'docs', 'img', 'demo-ring.png')),
    );
    const result = await readResult(page);
    check(
      result.bars.length === 5 && !/^class \d+$/.test(result.bars[0].label),
      `paper .pth: bars ${JSON.stringify(result.bars)}`,
    );
    const caption = await page.textContent('#filters-caption');
    check(
      /96 filters of 11×11×3 \(the paper’s Figure 3\)/.test(caption ?? ''),
      `paper filters: ${caption}`,
    );
    await page.locator('#filters').screenshot({ path: join(outputDir, 'web-filters.png') });
    if (isDocs)
      await copyFile(join(outputDir, 'web-filters.png'), join(docsImages, 'demo-web-filters.png'));
    await rm(path);
    await act(page, () => page.click('#weights-bundled'));
  }
  // Training on generated stripes with the digit model's frozen features, then the download round trip.
  {
    const picture = async (isHorizontal, seed) => {
      const pixels = Buffer.alloc(40 * 40);
      const period = 6 + (seed % 4);
      const phase = (seed * 7) % period;
      for (let y = 0; y < 40; y++)
        for (let x = 0; x < 40; x++) {
          const t = (isHorizontal ? y : x) + phase;
          pixels[y * 40 + x] =
            t % period < period / 2 ? 230 - (seed % 5) * 10 : 20 + (seed % 3) * 10;
        }
      return sharp(pixels, { raw: { width: 40, height: 40, channels: 1 } })
        .png()
        .toBuffer();
    };
    const classes = [
      ['horizontal', true],
      ['vertical', false],
    ];
    await page.click('#tab-button-train');
    for (const [i, [name, isHorizontal]] of classes.entries()) {
      await page.fill(`#classes li[data-index="${i}"] .class-name`, name);
      const files = [];
      for (let s = 0; s < 20; s++)
        files.push({
          name: `${name}-${s}.png`,
          mimeType: 'image/png',
          buffer: await picture(isHorizontal, s),
        });
      await act(page, () =>
        page.setInputFiles(`#classes li[data-index="${i}"] .class-files`, files),
      );
    }
    await page.fill('#train-epochs', '15');
    const trained = await act(page, () => page.click('#train-start'));
    const line = await page.textContent('#train-status');
    const accuracy = Number(await page.getAttribute('#train-result', 'data-validation'));
    console.log(`training: ${line}`);
    check(
      trained.state === 'ready' && accuracy >= TRAIN_MIN_ACCURACY,
      `training: held-out accuracy ${accuracy} < ${TRAIN_MIN_ACCURACY} (${trained.text} / ${line})`,
    );
    await screenshot(page, 'web-train', 'demo-web-train.png');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#train-download'),
    ]);
    const downloaded = join(work, 'trained.safetensors');
    await download.saveAs(downloaded);
    const test = join(work, 'test-vertical.png');
    await writeFile(test, await picture(false, 23));
    await act(page, () => page.click('#train-use'));
    const frozenWhat = await page.textContent('#weights-what');
    check(
      /mini AlexNet, 28×28 grey, 2 classes/.test(frozenWhat ?? ''),
      `the trained model is ${frozenWhat}`,
    );
    await page.click('#tab-button-classify');
    await act(page, () => page.setInputFiles('#image-file', test));
    const inPage = await readResult(page);
    const cliPrediction = gpunet(['predict', test, '--weights', downloaded, '--top-k', '2']).find(
      (e) => e.predictions,
    );
    console.log(
      `trained model on a new vertical picture: page ${inPage.bars[0].label} ${inPage.bars[0].probability}, gpunet predict ${cliPrediction.predictions[0].label} ${cliPrediction.predictions[0].probability}`,
    );
    check(
      inPage.bars[0].label === 'vertical',
      `the trained model calls a vertical picture ${inPage.bars[0].label}`,
    );
    for (const p of cliPrediction.predictions) {
      const bar = inPage.bars.find((b) => b.label === p.label);
      check(
        bar && Math.abs(bar.probability - p.probability) < 1e-5,
        `download round trip: ${p.label} ${p.probability} in the CLI, ${bar?.probability} in the page`,
      );
    }
    // The same model as .onnx: the CLI predicts the same from it, and the page loads it back.
    await page.click('#tab-button-train');
    const [onnxDownload] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#train-download-onnx'),
    ]);
    const downloadedOnnx = join(work, 'trained.onnx');
    await onnxDownload.saveAs(downloadedOnnx);
    const onnxPrediction = gpunet([
      'predict',
      test,
      '--weights',
      downloadedOnnx,
      '--top-k',
      '2',
    ]).find((e) => e.predictions);
    for (const p of onnxPrediction.predictions) {
      const bar = inPage.bars.find((b) => b.label === p.label);
      check(
        bar && Math.abs(bar.probability - p.probability) < 1e-5,
        `.onnx download: ${p.label} ${p.probability} in the CLI, ${bar?.probability} in the page`,
      );
    }
    await page.click('#tab-button-classify');
    const onnxLoaded = await loadWeights(downloadedOnnx, 'trained.onnx');
    check(onnxLoaded.status.state === 'ready', `trained.onnx: ${onnxLoaded.status.text}`);
    await act(page, () => page.setInputFiles('#image-file', test));
    const fromOnnx = await readResult(page);
    check(
      fromOnnx.bars[0].label === inPage.bars[0].label &&
        Math.abs(fromOnnx.bars[0].probability - inPage.bars[0].probability) < 1e-5,
      `the page's .onnx gives ${fromOnnx.bars[0].label} ${fromOnnx.bars[0].probability}, its .safetensors ${inPage.bars[0].label} ${inPage.bars[0].probability}`,
    );
  }
  // From scratch: a 32x32 colour mini, 3 epochs; the page then holds what it says it trained.
  {
    await page.click('#tab-button-train');
    await page.uncheck('#train-frozen');
    // Stop: a 500-epoch run stopped once its first batch is charted ends early.
    await page.fill('#train-epochs', '500');
    await page.evaluate(() => {
      document.getElementById('train-status').textContent = '';
    });
    const stopped = await act(page, async () => {
      await page.click('#train-start');
      await page.waitForFunction(
        () => /^epoch \d+/.test(document.getElementById('train-status').textContent ?? ''),
        null,
        { timeout: 120_000, polling: 50 },
      );
      await page.click('#train-stop');
    });
    const epochs = Number(await page.getAttribute('#train-result', 'data-epochs'));
    console.log(`stopped after ${epochs} epoch(s): ${stopped.text}`);
    check(
      stopped.state === 'ready' && epochs >= 1 && epochs < 500,
      `stop: ${stopped.text}, ${epochs} epochs`,
    );
    await page.fill('#train-epochs', '3');
    const scratch = await act(page, () => page.click('#train-start'));
    console.log(`training from scratch: ${await page.textContent('#train-status')}`);
    await act(page, () => page.click('#train-use'));
    const what = await page.textContent('#weights-what');
    check(
      scratch.state === 'ready' && /mini AlexNet, 32×32 RGB, 2 classes/.test(what ?? ''),
      `from scratch: ${scratch.text} / ${what}`,
    );
    await page.click('#tab-button-classify');
  }
  // Compare backends.
  {
    await act(page, () => page.click('#weights-bundled'));
    const status = await act(page, () => page.click('#compare-run'));
    const results = JSON.parse((await page.getAttribute('#compare', 'data-results')) ?? '[]');
    console.log(`compare: ${results.map((r) => `${r.name} ${r.ms.toFixed(1)} ms`).join(', ')}`);
    const usable = await page.$$eval('input[name=backend]:not([disabled])', (inputs) =>
      inputs.map((i) => i.value),
    );
    check(
      status.state === 'ready' &&
        results.length === usable.length &&
        results.every((r) => r.ms > 0),
      `compare: ${status.text} ${JSON.stringify(results)}`,
    );
    await screenshot(page, 'web-compare', 'demo-web-compare.png');
  }
} catch (error) {
  fail(`wasm page: ${error instanceof Error ? error.stack : String(error)}`);
}
await page.close();

await browser.close();
if (server.listening) server.close();
await rm(work, { recursive: true, force: true });
console.log(
  failures.length === 0 ? 'web demo: all checks passed' : `web demo: ${failures.length} failures`,
);
process.exit(failures.length === 0 ? 0 : 1);
