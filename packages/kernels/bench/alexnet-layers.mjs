#!/usr/bin/env node
/**
 * Per-op speed of AlexNet's layers on the gpu.js modes of @gpunet/kernels, side by side with
 * TensorFlow.js on the comparable backend in the same run: in Node, webasm vs
 * @tensorflow/tfjs-backend-wasm and cpu vs @tensorflow/tfjs-backend-cpu (headlessgl, when listed,
 * vs tfjs-backend-cpu: TF.js has no headless GL backend in Node); in headless Chromium
 * (bench/browser-layers.mjs), webgl2 and webgl vs tfjs-backend-webgl and webgpu vs
 * tfjs-backend-webgpu in the same page. Conv1-5 forward, data gradient and filter gradient,
 * fc6-8 forward and both backward matmuls, LRN and max-pooling, at batch 1 and 16. The layer list,
 * timing and formatting are layers-common.mjs, shared with the page. Never run by the tests.
 *
 *   pnpm --filter @gpunet/kernels bench -- --write       (builds, runs, rewrites docs/benchmarks.md)
 *   node bench/alexnet-layers.mjs --modes webasm,cpu,webgl2,webgpu --batches 1,16 --repeats 3
 *   xvfb-run -a node bench/alexnet-layers.mjs --modes headlessgl
 *   node bench/alexnet-layers.mjs --write                (also rewrites the docs section)
 *
 * Options: --modes (default webasm,cpu,webgl2,webgpu, plus headlessgl when a
 * DISPLAY is set),
 * --batches (1,16), --layers (e.g. conv2,fc6; default all), --passes (e.g. 'forward,data grad';
 * default all), --repeats (3), --budget-s (10: a batch-16 cell predicted from batch 1 to take
 * longer is skipped as "> budget"), --page-timeout-s (900, per browser mode), --write,
 * --section NAME (with --write: write the section "... vs TF.js (NAME)" instead of the main one,
 * so that a run of some modes leaves the table of the others in place),
 * --save-json FILE (where the measured run is kept; default a file in the OS temp dir),
 * --from-json FILE (print and --write a saved run instead of measuring).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../dist/index.js';
import { writeBenchSection } from '../../alexnet/bench/doc.mjs';
import { BROWSER_PEER, runInChromium } from './browser-layers.mjs';
import {
  formatRowText,
  markdownTable,
  ratioTable,
  runPair,
  TABLE_HEADER,
} from './layers-common.mjs';

const NODE_PEER = { webasm: 'wasm', cpu: 'cpu', headlessgl: 'cpu' };
// `pnpm ... bench -- --write` may pass the `--` on.
const argv = process.argv.slice(2).filter((a) => a !== '--');
const { values: opts } = parseArgs({
  args: argv,
  options: {
    modes: {
      type: 'string',
      default: `webasm,cpu,${process.env.DISPLAY ? 'headlessgl,' : ''}webgl2,webgpu`,
    },
    batches: { type: 'string', default: '1,16' },
    layers: { type: 'string' },
    passes: { type: 'string' },
    repeats: { type: 'string', default: '3' },
    'budget-s': { type: 'string', default: '10' },
    'page-timeout-s': { type: 'string', default: '900' },
    write: { type: 'boolean', default: false },
    section: { type: 'string' },
    'save-json': { type: 'string' },
    'from-json': { type: 'string' },
  },
});
const modes = opts.modes.split(',').filter(Boolean);
for (const m of modes) {
  if (!NODE_PEER[m] && !BROWSER_PEER[m]) {
    throw new Error(
      `--modes: unknown mode '${m}'; use ${[...Object.keys(NODE_PEER), ...Object.keys(BROWSER_PEER)].join(', ')}`,
    );
  }
}
const batches = opts.batches.split(',').map(Number);
if (batches.some((b) => !Number.isInteger(b) || b < 1)) {
  throw new Error(`--batches: expected positive integers, got '${opts.batches}'`);
}
const list = (value) => (value ? value.split(',').filter(Boolean) : null);
const settings = {
  batches,
  layers: list(opts.layers),
  passes: list(opts.passes),
  repeats: Number(opts.repeats),
  slowMs: 3000,
  budgetMs: Number(opts['budget-s']) * 1000,
};
const log = (line) => process.stderr.write(`${line}\n`);
/** `word` as a shell reads it back: quoted when it holds anything but plain characters. */
const shellWord = (word) =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
const cores = availableParallelism();

/** Measures every mode; returns the run: its rows and what the notes say about it. */
async function measure() {
  const loadStart = loadavg();
  console.log(TABLE_HEADER.join('\t'));
  const rows = [];
  const failures = [];
  const peerCells = new Map();
  for (const mode of modes.filter((m) => NODE_PEER[m])) {
    try {
      rows.push(
        ...(await runPair({
          mode,
          peer: NODE_PEER[mode],
          ...settings,
          peerCells,
          onRow: (row) => console.log(formatRowText(row)),
        })),
      );
    } catch (error) {
      failures.push(`${mode}: ${String(error?.message ?? error).split('\n')[0]}`);
    }
  }
  const browserModes = modes.filter((m) => BROWSER_PEER[m]);
  let chromium = '';
  if (browserModes.length) {
    const r = await runInChromium({
      modes: browserModes,
      ...settings,
      pageTimeoutS: Number(opts['page-timeout-s']),
      log,
    });
    for (const row of r.rows) console.log(formatRowText(row));
    rows.push(...r.rows);
    failures.push(...r.failures);
    chromium = r.chromium;
  }
  const require = createRequire(import.meta.url);
  const meta = {
    date: `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    machine: `${cpus()[0]?.model ?? 'an unknown CPU'}, ${cores} cores, no GPU, Node ${process.version}`,
    versions: `gpu.js ${require('gpu.js/package.json').version}, TF.js ${tf.version_core} (tfjs-core and the cpu, wasm, webgl and webgpu backends)`,
    chromium,
    command: `pnpm --filter @gpunet/kernels bench${argv.length ? ` -- ${argv.map(shellWord).join(' ')}` : ''}`,
    cores,
    modes,
    settings,
    loadStart,
    loadEnd: loadavg(),
    failures,
  };
  return { meta, rows };
}

let run;
if (opts['from-json']) {
  run = JSON.parse(readFileSync(opts['from-json'], 'utf8'));
} else {
  run = await measure();
  const saved =
    opts['save-json'] ??
    join(tmpdir(), `gpunet-kernels-bench-${run.meta.date.replace(/\W+/g, '-')}.json`);
  writeFileSync(saved, JSON.stringify(run));
  log(`saved the run to ${saved} (re-render it with --from-json ${saved})`);
}
const { meta, rows } = run;
const load = (l) => l.map((v) => v.toFixed(2)).join(' ');
const busy = Math.max(meta.loadStart[0], meta.loadEnd[0]) > meta.cores * 0.75;
const s = meta.settings;
const notes = [
  `Measured ${meta.date} on ${meta.machine}; ${meta.versions}${meta.chromium ? `; Chromium ${meta.chromium} with SwiftShader (WebGL and WebGPU on the CPU)` : ''}.`,
  `Command: \`${meta.command}\` (modes ${meta.modes.join(', ')}; batches ${s.batches.join(', ')}).`,
  `Load average (1, 5, 15 min) at the start: ${load(meta.loadStart)}; at the end: ${load(meta.loadEnd)}${busy ? ` (other work shared the ${meta.cores} cores: treat the numbers as low and noisy)` : ''}.`,
  '',
  '- Each cell: one untimed warm-up call (it compiles the kernels and, on the GPU modes, uploads the operands), then the median of ' +
    `${s.repeats} timed calls; each call includes reading the result back (\`await t.data()\`). ` +
    `\`*\`: the warm-up took over ${s.slowMs / 1000} s, so one timed call. ` +
    `\`†\` (Node modes only): the warm-up took over the ${s.budgetMs / 1000} s budget and is the measurement (it includes compiling, small beside that).`,
  ...(s.batches.length > 1
    ? [
        `- Budget: batch ${s.batches[0]} is measured first; a larger-batch cell whose batch-${s.batches[0]} time scaled by the batch is over ${s.budgetMs / 1000} s is not run and reads "> budget" (each side on its own).`,
      ]
    : []),
  '- Rate: GFLOP/s with a multiply-add as 2 FLOPs (conv: batch x output elements x in-channels per group x kernel area; fc: batch x in x out), for each of forward, data gradient and filter gradient; GB/s (bytes read + written once) for LRN and pooling.',
  '- "gpunet / TF.js" is TF.js time / gpunet time: above 1, gpunet is faster. "n/a (En)": the cell threw the error En listed under the table; in the ratio table "n/a" where either side threw.',
  "- Shapes: the paper's two-tower AlexNet (groups 2 on conv2, conv4, conv5; TF.js has no groups argument, so it runs one conv per group on split channels); LRN (size 5) and 3x3/2 max-pooling on conv1's output [batch, 96, 55, 55]. fc rows: forward x Wᵀ, data grad dy W, filter grad dyᵀ x.",
  '- Peers, in the same process: webasm vs TF.js wasm (XNNPACK, one thread in Node), cpu vs TF.js cpu, headlessgl vs TF.js cpu (TF.js has no headless GL backend in Node; headlessgl runs on Mesa llvmpipe under Xvfb; the TF.js cpu cells measured beside cpu are reused, not measured again); in the same Chromium page: webgl2 vs TF.js webgl (WebGL 2), webgpu vs TF.js webgpu.',
  ...meta.failures.map((f) => `- Not measured: ${f}`),
];
const lines = [
  '### gpunet / TF.js (TF.js time / gpunet time; above 1, gpunet is faster)',
  '',
  ...ratioTable(rows),
  '',
  '### Times and rates',
  '',
  ...markdownTable(rows),
];
console.log(['', ...notes, '', ...lines].join('\n'));
if (opts.write) {
  writeBenchSection(
    `## @gpunet/kernels: AlexNet layers on the gpu.js modes vs TF.js${opts.section ? ` (${opts.section})` : ''}`,
    notes,
    lines,
  );
}
process.exit(0);
