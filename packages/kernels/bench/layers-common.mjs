// The per-layer benchmark written once, shared by the Node run (alexnet-layers.mjs) and the
// Chromium page (browser-layers-entry.mjs): AlexNet's layer list, what each cell runs on gpunet and
// on TF.js, the timing with its budget, and the table formatting. Imports no Node module, so that
// esbuild can bundle it for the page.
import * as T from '@gpunet/tensor';
import * as tf from '@tensorflow/tfjs-core';

/** AlexNet's five convolutions (the paper's two-tower shapes: groups 2 on conv2/4/5) at batch 1. */
export const CONVS = [
  { name: 'conv1', x: [3, 227, 227], w: [96, 3, 11, 11], stride: 4, padding: 0, groups: 1 },
  { name: 'conv2', x: [96, 27, 27], w: [256, 48, 5, 5], stride: 1, padding: 2, groups: 2 },
  { name: 'conv3', x: [256, 13, 13], w: [384, 256, 3, 3], stride: 1, padding: 1, groups: 1 },
  { name: 'conv4', x: [384, 13, 13], w: [384, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
  { name: 'conv5', x: [384, 13, 13], w: [256, 192, 3, 3], stride: 1, padding: 1, groups: 2 },
];
/** The fully connected layers: `in` features to `out`. */
export const FCS = [
  { name: 'fc6', in: 9216, out: 4096 },
  { name: 'fc7', in: 4096, out: 4096 },
  { name: 'fc8', in: 4096, out: 1000 },
];
/** LRN and max-pooling run on conv1's output, as in the network. */
const ACT = [96, 55, 55];
/** The paper's LRN (alpha 1e-4 on the sum) in PyTorch's convention (alpha divided by the size). */
const LRN = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };

/** TF.js has no `groups` argument: a grouped conv runs as one conv per group (split on channels). */
function tfGroupedConv(kind, x, w, dy, c) {
  const g = c.groups;
  const split = (t) => (g === 1 ? [t] : tf.split(t, g, 3));
  const xs = split(x);
  const ws = split(w); // HWIO: output channels on axis 3
  const dys = dy ? split(dy) : [];
  const pad =
    c.padding === 0
      ? 'valid'
      : [
          [0, 0],
          [c.padding, c.padding],
          [c.padding, c.padding],
          [0, 0],
        ];
  const outs = [];
  for (let k = 0; k < g; k++) {
    if (kind === 'forward') outs.push(tf.conv2d(xs[k], ws[k], c.stride, pad));
    if (kind === 'data grad')
      outs.push(tf.conv2dTranspose(dys[k], ws[k], xs[k].shape, c.stride, pad));
    if (kind === 'filter grad') {
      if (tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) === undefined) {
        throw new Error(`TF.js ${tf.getBackend()} registers no Conv2DBackpropFilter kernel`);
      }
      outs.push(
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: xs[k], dy: dys[k] },
          {
            strides: [c.stride, c.stride],
            pad,
            dataFormat: 'NHWC',
            dimRoundingMode: undefined,
            filterShape: ws[k].shape,
          },
        ),
      );
    }
  }
  if (g > 1) tf.dispose([...xs, ...ws, ...dys]);
  return outs;
}

/**
 * The benchmark's layers at `batch`: each with its passes (name, FLOPs, bytes moved) and, per
 * side, a `setup()` that makes the operands and returns `{ run: { [pass]: () => outputs }, dispose }`.
 * FLOPs count a multiply-add as 2; LRN and pooling report bytes read + written instead.
 */
export function layerSpecs(batch) {
  const specs = [];
  for (const c of CONVS) {
    const a = T.conv2dAttrs([batch, ...c.x], c.w, c);
    const flops =
      2 *
      batch *
      a.outChannels *
      a.outHeight *
      a.outWidth *
      (a.inChannels / a.groups) *
      a.kernelHeight *
      a.kernelWidth;
    const dyShape = [batch, a.outChannels, a.outHeight, a.outWidth];
    specs.push({
      layer: c.name,
      passes: ['forward', 'data grad', 'filter grad'].map((pass) => ({ pass, flops })),
      gpunet: () => {
        const x = T.randn([batch, ...c.x]);
        const w = T.randn(c.w);
        const dy = T.randn(dyShape);
        return {
          run: {
            forward: () => T.runKernel('Conv2d', [x, w], a),
            'data grad': () => T.runKernel('Conv2dBackpropInput', [dy, w], a),
            'filter grad': () => T.runKernel('Conv2dBackpropFilter', [x, dy], a),
          },
          dispose: () => T.dispose([x, w, dy]),
        };
      },
      tfjs: () => {
        const x = tf.randomNormal([batch, c.x[1], c.x[2], c.x[0]]);
        const w = tf.randomNormal([c.w[2], c.w[3], c.w[1], c.w[0]]);
        const dy = tf.randomNormal([batch, a.outHeight, a.outWidth, a.outChannels]);
        const run = {};
        for (const pass of ['forward', 'data grad', 'filter grad'])
          run[pass] = () => tfGroupedConv(pass, x, w, dy, c);
        return { run, dispose: () => tf.dispose([x, w, dy]) };
      },
    });
  }
  for (const fc of FCS) {
    const flops = 2 * batch * fc.in * fc.out;
    specs.push({
      layer: fc.name,
      passes: ['forward', 'data grad', 'filter grad'].map((pass) => ({ pass, flops })),
      gpunet: () => {
        const x = T.randn([1, batch, fc.in]);
        const w = T.randn([1, fc.out, fc.in]);
        const dy = T.randn([1, batch, fc.out]);
        const mm = (p, q, transposeA, transposeB) =>
          T.runKernel('BatchMatMul', [p, q], { transposeA, transposeB });
        return {
          run: {
            forward: () => mm(x, w, false, true), // x Wᵀ: [b, in] -> [b, out]
            'data grad': () => mm(dy, w, false, false), // dy W: [b, out] -> [b, in]
            'filter grad': () => mm(dy, x, true, false), // dyᵀ x: [out, in]
          },
          dispose: () => T.dispose([x, w, dy]),
        };
      },
      tfjs: () => {
        const x = tf.randomNormal([batch, fc.in]);
        const w = tf.randomNormal([fc.out, fc.in]);
        const dy = tf.randomNormal([batch, fc.out]);
        return {
          run: {
            forward: () => tf.matMul(x, w, false, true),
            'data grad': () => tf.matMul(dy, w),
            'filter grad': () => tf.matMul(dy, x, true, false),
          },
          dispose: () => tf.dispose([x, w, dy]),
        };
      },
    });
  }
  const inElems = batch * ACT[0] * ACT[1] * ACT[2];
  const poolElems = batch * ACT[0] * 27 * 27;
  specs.push({
    layer: 'lrn1',
    passes: [{ pass: 'forward', bytes: 4 * 2 * inElems }],
    gpunet: () => {
      const x = T.randn([batch, ...ACT]);
      return {
        run: { forward: () => T.localResponseNorm(x, LRN) },
        dispose: () => x.dispose(),
      };
    },
    // TF.js's depthRadius is a half width, and its alpha multiplies the sum undivided.
    tfjs: () => {
      const x = tf.randomNormal([batch, ACT[1], ACT[2], ACT[0]]);
      const half = (LRN.size - 1) / 2;
      return {
        run: {
          forward: () =>
            tf.localResponseNormalization(x, half, LRN.k, LRN.alpha / LRN.size, LRN.beta),
        },
        dispose: () => x.dispose(),
      };
    },
  });
  specs.push({
    layer: 'pool1 (max 3/2)',
    passes: [{ pass: 'forward', bytes: 4 * (inElems + poolElems) }],
    gpunet: () => {
      const x = T.randn([batch, ...ACT]);
      return {
        run: { forward: () => T.maxPool2d(x, { kernelSize: 3, stride: 2 }) },
        dispose: () => x.dispose(),
      };
    },
    tfjs: () => {
      const x = tf.randomNormal([batch, ACT[1], ACT[2], ACT[0]]);
      return { run: { forward: () => tf.maxPool(x, 3, 2, 'valid') }, dispose: () => x.dispose() };
    },
  });
  return specs;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Reads every output back (`await data()`, which also waits for the device) and frees it. */
async function readAll(out) {
  for (const t of [out].flat()) {
    await t.data();
    t.dispose();
  }
}

/**
 * Milliseconds of one call of `run` including its readback. One untimed warm-up (it compiles
 * the kernels), then `repeats` timed runs and their median. A warm-up over `slowMs` is followed
 * by one timed run only (`mark: '*'`); one over `warmupOnlyMs` is the measurement itself
 * (`mark: '†'`: on the CPU backends the warm-up's compiling is small beside seconds of work; the
 * browser run passes Infinity, as a GPU backend's first call also uploads its operands).
 */
export async function timeCall(run, { repeats, slowMs, warmupOnlyMs }) {
  const once = async () => {
    const start = performance.now();
    await readAll(run());
    return performance.now() - start;
  };
  const warm = await once();
  if (warm > warmupOnlyMs) return { ms: warm, mark: '†' };
  const count = warm > slowMs ? 1 : repeats;
  const times = [];
  for (let r = 0; r < count; r++) times.push(await once());
  return { ms: median(times), mark: count < repeats ? '*' : '' };
}

const firstLine = (error) => String(error?.message ?? error).split('\n')[0];

/**
 * Runs every layer and pass on gpunet `mode` and TF.js `peer`, back to back per cell, at each of
 * `batches` (ascending). A cell past batch 1 whose time predicted from batch 1 (linear in the
 * batch) is over `budgetMs` is skipped (`skipped`); a cell that throws carries the error.
 * A TF.js cell already in `peerCells` (shared between calls: two gpu.js modes with the same peer)
 * is reused, not measured again. `layers` (names such as 'conv2', 'fc6', 'lrn1', 'pool1') and
 * `passes` ('forward', 'data grad', 'filter grad'), when given, keep only those cells. Calls `onRow` with each row as soon as it is measured and
 * returns them all.
 */
export async function runPair({
  mode,
  peer,
  batches = [1, 16],
  repeats = 3,
  slowMs = 3000,
  budgetMs = 10000,
  warmupOnlyMs = budgetMs,
  peerCells = new Map(),
  layers = null,
  passes = null,
  onRow = () => {},
  log = () => {},
}) {
  await T.setBackend(mode);
  await tf.setBackend(peer);
  await tf.ready();
  if (tf.getBackend() !== peer) throw new Error(`TF.js could not start its ${peer} backend`);
  const rows = [];
  const first = new Map(); // `${side} ${layer} ${pass}` -> batch-1 ms
  for (const batch of batches) {
    for (const spec of layerSpecs(batch)) {
      if (layers && !layers.includes(spec.layer.split(' ')[0])) continue;
      const wanted = spec.passes.filter((p) => !passes || passes.includes(p.pass));
      if (wanted.length === 0) continue;
      const sides = {};
      for (const side of ['gpunet', 'tfjs']) {
        try {
          sides[side] = side === 'gpunet' ? spec.gpunet() : spec.tfjs();
        } catch (error) {
          sides[side] = { error: firstLine(error) };
        }
      }
      for (const { pass, flops, bytes } of wanted) {
        const row = { mode, peer, layer: spec.layer, pass, batch, flops, bytes };
        for (const side of ['gpunet', 'tfjs']) {
          const s = sides[side];
          const key = `${side} ${spec.layer} ${pass}`;
          const base = first.get(key);
          const peerKey = `${peer} ${spec.layer} ${pass} ${batch}`;
          if (side === 'tfjs' && peerCells.has(peerKey)) {
            row.tfjs = { ...peerCells.get(peerKey), reused: true };
            if (batch === batches[0] && row.tfjs.ms !== undefined) first.set(key, row.tfjs.ms);
          } else if (s.error) {
            row[side] = { error: s.error };
          } else if (base !== undefined && (base * batch) / batches[0] > budgetMs) {
            row[side] = { skipped: true };
          } else {
            try {
              row[side] = await timeCall(s.run[pass], { repeats, slowMs, warmupOnlyMs });
              if (batch === batches[0]) first.set(key, row[side].ms);
            } catch (error) {
              row[side] = { error: firstLine(error) };
            }
          }
        }
        if (!row.tfjs.reused) peerCells.set(`${peer} ${spec.layer} ${pass} ${batch}`, row.tfjs);
        log(formatRowText(row));
        rows.push(row);
        onRow(row);
      }
      for (const side of ['gpunet', 'tfjs']) {
        try {
          sides[side].dispose?.();
        } catch {
          // a side whose operands never existed
        }
      }
    }
  }
  return rows;
}

/** `ms` with its marker: none = median of the repeats, * = one timed run, † = the warm-up run. */
function formatMs(cell) {
  if (!cell) return 'n/a';
  if (cell.error) return `n/a: ${cell.error}`;
  if (cell.skipped) return '> budget';
  return `${cell.ms.toFixed(cell.ms < 10 ? 2 : 1)}${cell.mark}`;
}
function formatRate(row, cell) {
  if (!cell || cell.ms === undefined) return '-';
  return row.flops
    ? `${(row.flops / cell.ms / 1e6).toFixed(2)} GFLOP/s`
    : `${(row.bytes / cell.ms / 1e6).toFixed(2)} GB/s`;
}
function formatRatio(row) {
  const a = row.gpunet?.ms;
  const b = row.tfjs?.ms;
  return a !== undefined && b !== undefined ? (b / a).toFixed(2) : 'n/a';
}

export const TABLE_HEADER = [
  'gpunet mode',
  'TF.js backend',
  'layer',
  'pass',
  'batch',
  'gpunet ms',
  'gpunet rate',
  'TF.js ms',
  'TF.js rate',
  'gpunet / TF.js',
];

/** One row's cells, in TABLE_HEADER's order. */
export function rowCells(row) {
  return [
    row.mode,
    row.peer,
    row.layer,
    row.pass,
    String(row.batch),
    formatMs(row.gpunet),
    formatRate(row, row.gpunet),
    formatMs(row.tfjs),
    formatRate(row, row.tfjs),
    formatRatio(row),
  ];
}

/** A row as one tab-separated line (the progress output). */
export const formatRowText = (row) => rowCells(row).join('\t');

/**
 * Rows as a Markdown table, followed by the distinct errors: a cell that threw reads
 * "n/a (E1)" and the list under the table gives E1's message. `|` in messages is escaped.
 */
export function markdownTable(rows) {
  const esc = (s) => s.replaceAll('|', '\\|');
  const errors = [];
  const cells = (row) => {
    const out = rowCells(row);
    for (const [side, at] of [
      ['gpunet', 5],
      ['tfjs', 7],
    ]) {
      const message = row[side]?.error;
      if (message === undefined) continue;
      if (!errors.includes(message)) errors.push(message);
      out[at] = `n/a (E${errors.indexOf(message) + 1})`;
    }
    return out;
  };
  const lines = [
    `| ${TABLE_HEADER.join(' | ')} |`,
    `| ${TABLE_HEADER.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
  ];
  if (errors.length) lines.push('', ...errors.map((e, i) => `- E${i + 1}: n/a: ${esc(e)}`));
  return lines;
}

/**
 * The ratios alone (TF.js time / gpunet time), one row per layer and pass, one column per gpu.js
 * mode and batch: "n/a" where a side threw, else "> budget" where a side was skipped.
 */
export function ratioTable(rows) {
  const columns = [...new Set(rows.map((r) => `${r.mode} vs ${r.peer}, b${r.batch}`))];
  const keys = [...new Set(rows.map((r) => `${r.layer} | ${r.pass}`))];
  const byKey = new Map(
    rows.map((r) => [`${r.layer} | ${r.pass} | ${r.mode} vs ${r.peer}, b${r.batch}`, r]),
  );
  const cell = (r) => {
    if (!r) return '';
    if (r.gpunet?.error || r.tfjs?.error) return 'n/a';
    if (r.gpunet?.skipped || r.tfjs?.skipped) return '> budget';
    return formatRatio(r);
  };
  return [
    `| layer | pass | ${columns.join(' | ')} |`,
    `| --- | --- | ${columns.map(() => '---').join(' | ')} |`,
    ...keys.map(
      (k) => `| ${k} | ${columns.map((c) => cell(byKey.get(`${k} | ${c}`))).join(' | ')} |`,
    ),
  ];
}
