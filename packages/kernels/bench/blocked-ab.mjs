#!/usr/bin/env node
/**
 * The blocked kernels (four outputs per thread: Conv2d, its two gradients, BatchMatMul) against
 * the one-output kernels they replace (`--toggle blocked`, the backend's `blocksOutputs`), or
 * webgl2's packed convolutions against the blocked ones on flat textures (`--toggle packed`,
 * `packsInputs`), or webgpu's stride-1 convolutions and data gradients with four outputs per
 * thread along the flattened plane against quads along each row (`--toggle plane`, `quadsSpanRows`), or
 * webgpu's BatchMatMul with 2x2 blocks of outputs against 1x4 (`--toggle pairs`,
 * `blocksRowPairs`), or webgl2's texture reads in f32 against gpu.js's own (`--toggle reads`,
 * `readsInF32`), or conv1-5's forward pass with bias and ReLU as one FusedConv2d launch against
 * Conv2d, Add and Relu (`--toggle fused`), on the same gpu.js browser mode in the same headless Chromium page, call by
 * call in alternation (median of --repeats each), so that the speed-up holds on a loaded
 * machine where the layer table's absolute times drift. Never run by tests.
 *
 *   node bench/blocked-ab.mjs --modes webgpu,webgl2 --layers conv2,fc7 --passes forward --repeats 5
 *   node bench/blocked-ab.mjs --toggle packed --modes webgl2 --layers conv1 --passes forward
 *   node bench/blocked-ab.mjs --toggle plane --modes webgpu --layers conv3,conv5 --passes 'data grad'
 *   node bench/blocked-ab.mjs --toggle pairs --modes webgpu --batch 16 --layers fc6,fc7
 *   node bench/blocked-ab.mjs --toggle fused --modes webgpu,webgl2 --repeats 5
 *
 * Options: --modes (webgpu,webgl2), --toggle (blocked, packed, plane, pairs, reads or fused), --batch (1), --layers,
 * --passes (default all), --repeats (3).
 */
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { launchChromium, serveBundle } from '@gpunet/dev-chromium';

const here = dirname(fileURLToPath(import.meta.url));
const { values: opts } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    modes: { type: 'string', default: 'webgpu,webgl2' },
    toggle: { type: 'string', default: 'blocked' },
    batch: { type: 'string', default: '1' },
    layers: { type: 'string' },
    passes: { type: 'string' },
    repeats: { type: 'string', default: '3' },
  },
});
if (!['blocked', 'packed', 'plane', 'pairs', 'reads', 'fused'].includes(opts.toggle)) {
  throw new Error(
    `--toggle: expected blocked, packed, plane, pairs, reads or fused, got '${opts.toggle}'`,
  );
}
const list = (v) => (v ? v.split(',').filter(Boolean) : null);
const load = () =>
  loadavg()
    .map((v) => v.toFixed(2))
    .join(' ');
console.log(`load average at the start: ${load()}`);
const browser = await launchChromium();
const { server, pageUrl } = await serveBundle(
  join(here, 'blocked-ab-entry.mjs'),
  'gpunet blocked A/B',
);
try {
  for (const mode of list(opts.modes)) {
    const page = await browser.newPage();
    page.on('console', (m) => console.log(m.text()));
    page.on('pageerror', (e) => console.log(`[${mode}] page error: ${e.message}`));
    await page.goto(pageUrl);
    await page.evaluate(
      (settings) => {
        globalThis.GPUNET_BENCH = settings;
      },
      {
        mode,
        toggle: opts.toggle,
        batch: Number(opts.batch),
        layers: list(opts.layers),
        passes: list(opts.passes),
        repeats: Number(opts.repeats),
      },
    );
    await page.addScriptTag({ url: '/bench.js', type: 'module' });
    await page.waitForFunction(() => globalThis.gpunetBench?.isDone === true, null, {
      timeout: 1_800_000,
      polling: 500,
    });
    const r = await page.evaluate(() => globalThis.gpunetBench);
    if (r.error) console.log(`${mode}: ${r.error}`);
    await page.close();
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`load average at the end: ${load()}`);
process.exit(0);
