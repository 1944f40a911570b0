#!/usr/bin/env node
/**
 * End-to-end test of the web demo in headless Chromium (SwiftShader flags of docs/design.md).
 * Serves the built app (web/dist, from `pnpm build:web`) with cross-origin isolation headers,
 * classifies every bundled sample on the reference backend, then on each mode of
 * GPUNET_WEB_MODES (default "webgl2,webgpu,wasm"), and
 * checks that the top-5 bars show and that their probabilities equal the reference backend's
 * within 1e-4 (logits within 1e-3 relative). A mode that cannot start FAILS the test.
 * Also checks that the same weights as a PyTorch .pth give the same logits, and that weights
 * that do not fit the model give an error naming the missing keys.
 * GPUNET_WEB_URL=<url> tests a page served elsewhere (e.g. the dev server) instead of web/dist.
 * Screenshots go to apps/demo/test-output/web-<mode>.png; with --docs the webgl2 one is copied
 * to docs/img/demo-web.png and the wasm Train tab's to docs/img/demo-web-train.png.
 *
 *   pnpm --filter @gpunet/demo check:browser
 *   GPUNET_WEB_MODES=webgl2,webgpu,wasm node test/web/run.mjs
 *
 * Needs Debian's chromium at /usr/bin/chromium (or CHROMIUM_PATH); no browser is downloaded.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, listenOnLocalhost } from '@gpunet/dev-chromium';

const appRoot = fileURLToPath(new URL('../..', import.meta.url));
const distDir = join(appRoot, 'web', 'dist');
const outputDir = join(appRoot, 'test-output');
const docsImages = join(appRoot, '..', '..', 'docs', 'img');
const modes = (process.env.GPUNET_WEB_MODES ?? 'webgl2,webgpu,wasm').split(',').filter(Boolean);
const SAMPLES = ['horizontal', 'vertical', 'diagonal', 'antidiagonal'];
const PROBABILITY_TOLERANCE = 1e-4;
const LOGIT_TOLERANCE = 1e-3;
// The Train tab is exercised on this mode (the fast CPU one); 3 epochs of 1024 bars reach
// validation top-1 1.0 with the fixed seed of web/src/train.ts (measured); chance is 0.25.
const TRAIN_MODE = 'wasm';
const TRAIN_MIN_TOP1 = 0.75;
const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

// A tiny static server with the headers vite preview sends (web/vite.config.ts).
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
// GPUNET_WEB_URL tests a page already served elsewhere (e.g. `pnpm dev:web`) instead.
const origin = process.env.GPUNET_WEB_URL?.replace(/\/$/, '') ?? (await listenOnLocalhost(server));

const browser = await launchChromium();
await mkdir(outputDir, { recursive: true });
const failures = [];
const fail = (line) => {
  failures.push(line);
  console.log(`FAIL ${line}`);
};

/** Opens the page on a backend and waits until the bundled model is loaded (or an error shows). */
async function openPage(backend) {
  const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
  page.on('pageerror', (error) => fail(`${backend}: page error: ${error.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.log(`  [${backend}] ${m.text()}`);
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

async function waitStatus(page) {
  await page.waitForFunction(
    () => ['ready', 'error'].includes(document.getElementById('status')?.dataset.state ?? ''),
    null,
    { timeout: 300_000, polling: 200 },
  );
  return page.evaluate(() => {
    const status = document.getElementById('status');
    return { state: status.dataset.state, text: status.textContent };
  });
}

/** Clicks a bundled sample and returns the bars and logits the page shows. */
async function classifySample(page, name) {
  await page.evaluate(() => {
    document.getElementById('result').dataset.state = 'waiting';
  });
  await page.click(`img[data-sample=${name}]`);
  const status = await waitStatus(page);
  if (status.state !== 'ready') throw new Error(status.text);
  return page.evaluate(() => {
    const result = document.getElementById('result');
    return {
      totalMs: Number(
        document.querySelector('#timings tr:last-child th:last-child')?.textContent?.split(' ')[0],
      ),
      layerTypes: [...document.querySelectorAll('#timings td:nth-child(2)')].map(
        (td) => td.textContent,
      ),
      mapWidths: ['filters', 'maps-conv1', 'maps-conv2'].map(
        (id) => document.getElementById(id).width,
      ),
      state: result.dataset.state,
      backend: result.dataset.backend,
      logits: JSON.parse(result.dataset.logits ?? '[]'),
      bars: [...document.querySelectorAll('#bars .bar')].map((bar) => ({
        label: bar.dataset.label,
        probability: Number(bar.dataset.probability),
        width: bar.querySelector('.fill').getBoundingClientRect().width,
      })),
    };
  });
}

/**
 * Trains 3 epochs in the page (Train tab), checks the chart and the validation accuracy, then
 * classifies a sample with the trained model.
 */
async function checkTraining(page, mode) {
  await page.click('button[data-tab=train]');
  await page.fill('#train-epochs', '3');
  await page.click('#train-start');
  const status = await waitStatus(page);
  const line = await page.textContent('#train-status');
  console.log(`${mode} training: ${line}`);
  const match = /epoch 3 done: loss ([\d.]+), validation top-1 ([\d.]+)/.exec(line ?? '');
  if (status.state !== 'ready' || !match) throw new Error(`training: ${status.text} / ${line}`);
  if (Number(match[2]) < TRAIN_MIN_TOP1) {
    throw new Error(`training: validation top-1 ${match[2]} < ${TRAIN_MIN_TOP1}`);
  }
  const shot = join(outputDir, `web-${mode}-train.png`);
  await page.screenshot({ path: shot, fullPage: true });
  if (process.argv.includes('--docs')) await copyFile(shot, join(docsImages, 'demo-web-train.png'));
  await page.click('#train-use');
  if ((await waitStatus(page)).state !== 'ready')
    throw new Error('training: could not use the model');
  await page.click('button[data-tab=classify]');
  const result = await classifySample(page, 'horizontal');
  console.log(
    `${mode} trained model: horizontal -> ${result.bars[0].label} ${result.bars[0].probability}`,
  );
  if (result.bars[0].label !== 'horizontal')
    throw new Error('the model trained in the page misclassifies horizontal');
}

// The oracle: the same page on the reference backend.
const expected = {};
{
  const page = await openPage('reference');
  for (const name of SAMPLES) {
    expected[name] = await classifySample(page, name);
    const top = expected[name].bars[0];
    console.log(`reference ${name}: top-1 ${top.label} ${top.probability.toFixed(6)}`);
    if (top.label !== name) fail(`reference: the bundled model calls ${name} ${top.label}`);
  }
  // The same weights saved by torch.save (test/web/fixtures/make-pth.py) give the same logits.
  await page.setInputFiles(
    '#weights-file',
    join(appRoot, 'test', 'web', 'fixtures', 'mini-bars.pth'),
  );
  const loaded = await waitStatus(page);
  const fromPth = await classifySample(page, 'vertical');
  const isSame = fromPth.logits.every((v, i) => v === expected.vertical.logits[i]);
  console.log(`mini-bars.pth: ${loaded.text}; vertical logits ${isSame ? 'equal' : 'differ'}`);
  if (loaded.state !== 'ready' || !isSame) fail(`.pth weights: ${loaded.text} ${fromPth.logits}`);
  // A file that is no image: the error names it.
  await page.setInputFiles('#image-file', {
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('not pixels'),
  });
  const notImage = await waitStatus(page);
  console.log(`notes.txt: ${notImage.text}`);
  if (notImage.state !== 'error' || !/notes\.txt.*not an image/.test(notImage.text)) {
    fail(`a text file as image gave no clear error: ${notImage.text}`);
  }
  // Weights that do not fit: a .safetensors holding one unrelated tensor.
  const header = Buffer.from(
    JSON.stringify({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }),
  );
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(header.length));
  await page.setInputFiles('#weights-file', {
    name: 'wrong.safetensors',
    mimeType: 'application/octet-stream',
    buffer: Buffer.concat([length, header, Buffer.alloc(4)]),
  });
  const status = await waitStatus(page);
  const isClear =
    status.state === 'error' &&
    status.text.includes('wrong.safetensors does not fit') &&
    status.text.includes('features.0.weight');
  console.log(`wrong weights: ${status.text}`);
  if (!isClear) fail(`wrong weights gave no clear error: ${status.text}`);
  await page.close();
}

for (const mode of modes) {
  const started = Date.now();
  let page;
  try {
    page = await openPage(mode);
    let worst = 0;
    let worstLogit = 0;
    const totals = [];
    for (const name of SAMPLES) {
      const got = await classifySample(page, name);
      const want = expected[name];
      totals.push(got.totalMs);
      if (got.state !== 'done' || got.backend !== mode)
        throw new Error(`${name}: no result on ${mode}`);
      if (
        got.bars.length !== Math.min(5, want.bars.length) ||
        got.bars.some((b) => !(b.width > 0 || b.probability < 0.005))
      ) {
        throw new Error(
          `${name}: expected ${want.bars.length} drawn bars, got ${JSON.stringify(got.bars)}`,
        );
      }
      // 23 modules, named by class (the build keeps class names: web/vite.config.ts).
      const relus = got.layerTypes.filter((type) => type === 'ReLU').length;
      if (got.layerTypes.length !== 23 || relus !== 7) {
        throw new Error(`${name}: timings table lists ${got.layerTypes.join(' ')}`);
      }
      if (got.mapWidths.some((width) => width <= 0))
        throw new Error(`${name}: filters or maps not drawn`);
      got.bars.forEach((bar, i) => {
        const diff = Math.abs(bar.probability - want.bars[i].probability);
        worst = Math.max(worst, diff);
        if (bar.label !== want.bars[i].label || diff > PROBABILITY_TOLERANCE) {
          fail(
            `${mode} ${name}: bar ${i} ${bar.label} ${bar.probability} vs reference ${want.bars[i].label} ${want.bars[i].probability}`,
          );
        }
      });
      got.logits.forEach((logit, i) => {
        const reference = want.logits[i];
        worstLogit = Math.max(worstLogit, Math.abs(logit - reference));
        if (Math.abs(logit - reference) > LOGIT_TOLERANCE * Math.max(1, Math.abs(reference))) {
          fail(`${mode} ${name}: logit ${i} ${logit} vs reference ${reference}`);
        }
      });
    }
    if (mode === TRAIN_MODE) await checkTraining(page, mode);
    const shot = join(outputDir, `web-${mode}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    if (mode === 'webgl2' && process.argv.includes('--docs')) {
      await copyFile(shot, join(docsImages, 'demo-web.png'));
    }
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `${mode}: ${SAMPLES.length} samples classified, largest difference from the reference: probability ${worst.toExponential(2)}, logit ${worstLogit.toExponential(2)}; forward ${totals.map((t) => t.toFixed(1)).join(', ')} ms (${seconds} s)`,
    );
  } catch (error) {
    fail(`${mode}: ${error instanceof Error ? error.message : String(error)}`);
  }
  await page?.close();
}

await browser.close();
if (server.listening) server.close();
console.log(
  failures.length === 0 ? 'web demo: all checks passed' : `web demo: ${failures.length} failures`,
);
process.exit(failures.length === 0 ? 0 : 1);
