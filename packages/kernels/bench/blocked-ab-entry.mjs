// The page side of bench/blocked-ab.mjs: on one gpu.js browser mode, each cell of the layer
// benchmark (layers-common.mjs) with the blocked kernels (four outputs per thread) and with the
// one-output kernels (toggle 'blocked'), or with webgl2's packed convolutions and the blocked ones
// on flat textures (toggle 'packed'), or webgpu's stride-1 convolutions and data gradients with quads
// along the flattened plane and along rows (toggle 'plane'), or webgpu's BatchMatMul with 2x2 and 1x4
// blocks of outputs (toggle 'pairs'), or webgl2's texture reads in f32 and gpu.js's own (toggle
// 'reads'), or each convolution's forward pass with its bias and ReLU
// as one FusedConv2d launch and as Conv2d, Add and Relu (toggle 'fused'), alternating call by
// call so that both see the same machine load. Reads its
// settings from globalThis.GPUNET_BENCH and leaves rows, any error and isDone on
// globalThis.gpunetBench.
import * as T from '@gpunet/tensor';
import '../dist/index.js';
import { CONVS, layerSpecs } from './layers-common.mjs';

const g = globalThis;
const s = g.GPUNET_BENCH ?? { mode: 'webgpu', toggle: 'blocked', batch: 1, repeats: 3 };
const FLAGS = {
  packed: 'packsInputs',
  plane: 'quadsSpanRows',
  pairs: 'blocksRowPairs',
  reads: 'readsInF32',
};
const flag = FLAGS[s.toggle] ?? 'blocksOutputs';
const NAMES = {
  blocked: ['blocked', 'one-output'],
  packed: ['packed', 'flat'],
  plane: ['plane quads', 'row quads'],
  pairs: ['2x2 blocks', '1x4 blocks'],
  reads: ['f32 reads', 'gpu.js reads'],
  fused: ['fused', 'three launches'],
};
const names = NAMES[s.toggle];

/**
 * The cells of toggle 'fused': conv1-5 forward with bias and ReLU, as FusedConv2d (`blocked`,
 * the first variant) and as Conv2d, then Add, then Relu (`single`).
 */
function fusedSpecs(batch) {
  return CONVS.map((c) => {
    const a = T.conv2dAttrs([batch, ...c.x], c.w, c);
    return {
      layer: c.name,
      passes: [{ pass: 'forward + bias + relu' }],
      variants: () => {
        const x = T.randn([batch, ...c.x]);
        const w = T.randn(c.w);
        const b = T.randn([a.outChannels]);
        const b4 = T.reshape(b, [1, a.outChannels, 1, 1]);
        const fused = () => T.runKernel('FusedConv2d', [x, w, b], { ...a, activation: 'relu' });
        const three = () => T.tidy(() => T.relu(T.add(T.runKernel('Conv2d', [x, w], a), b4)));
        return {
          run: { blocked: fused, single: three },
          dispose: () => T.dispose([x, w, b, b4]),
        };
      },
    };
  });
}

/** Runs variant `variant` ('blocked' or 'single') of a cell. */
function runVariant(backend, side, pass, variant) {
  if (s.toggle === 'fused') return side.run[variant]();
  backend[flag] = variant === 'blocked';
  return side.run[pass]();
}
const result = { rows: [], error: '', isDone: false };
g.gpunetBench = result;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds of one call of `run`, its result read back and freed. */
async function once(run) {
  const start = performance.now();
  for (const t of [run()].flat()) {
    await t.data();
    t.dispose();
  }
  return performance.now() - start;
}

try {
  await T.setBackend(s.mode);
  const backend = T.getBackend();
  const specs = s.toggle === 'fused' ? fusedSpecs(s.batch) : layerSpecs(s.batch);
  for (const spec of specs) {
    if (s.layers && !s.layers.includes(spec.layer.split(' ')[0])) continue;
    const side = s.toggle === 'fused' ? spec.variants() : spec.gpunet();
    for (const { pass } of spec.passes) {
      if (s.passes && s.toggle !== 'fused' && !s.passes.includes(pass)) continue;
      const times = { blocked: [], single: [] };
      for (const variant of ['blocked', 'single']) {
        await once(() => runVariant(backend, side, pass, variant)); // warm-up: compiles
      }
      for (let r = 0; r < s.repeats; r++) {
        for (const variant of r % 2 ? ['single', 'blocked'] : ['blocked', 'single']) {
          times[variant].push(await once(() => runVariant(backend, side, pass, variant)));
        }
      }
      const row = {
        mode: s.mode,
        layer: spec.layer,
        pass,
        batch: s.batch,
        blocked: median(times.blocked),
        single: median(times.single),
      };
      console.log(
        `${row.mode}\t${row.layer}\t${pass}\tb${row.batch}\t${names[0]} ${row.blocked.toFixed(1)} ms\t${names[1]} ${row.single.toFixed(1)} ms\tspeed-up ${(row.single / row.blocked).toFixed(2)}`,
      );
      result.rows.push(row);
    }
    side.dispose();
  }
} catch (error) {
  result.error = String(error?.message ?? error).split('\n')[0];
}
result.isDone = true;
