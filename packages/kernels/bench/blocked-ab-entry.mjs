// The page side of bench/blocked-ab.mjs: on one gpu.js browser mode, each cell of the layer
// benchmark (layers-common.mjs) with the blocked kernels (four outputs per thread) and with the
// one-output kernels (toggle 'blocked'), or with webgl2's packed convolutions and the blocked ones
// on flat textures (toggle 'packed'), alternating call by call so that both see the same machine
// load. Reads its
// settings from globalThis.GPUNET_BENCH and leaves rows, any error and isDone on
// globalThis.gpunetBench.
import * as T from '@gpunet/tensor';
import '../dist/index.js';
import { layerSpecs } from './layers-common.mjs';

const g = globalThis;
const s = g.GPUNET_BENCH ?? { mode: 'webgpu', toggle: 'blocked', batch: 1, repeats: 3 };
const flag = s.toggle === 'packed' ? 'packsInputs' : 'blocksOutputs';
const names = s.toggle === 'packed' ? ['packed', 'flat'] : ['blocked', 'one-output'];
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
  for (const spec of layerSpecs(s.batch)) {
    if (s.layers && !s.layers.includes(spec.layer.split(' ')[0])) continue;
    const side = spec.gpunet();
    for (const { pass } of spec.passes) {
      if (s.passes && !s.passes.includes(pass)) continue;
      const times = { blocked: [], single: [] };
      for (const variant of ['blocked', 'single']) {
        backend[flag] = variant === 'blocked';
        await once(side.run[pass]); // warm-up: compiles
      }
      for (let r = 0; r < s.repeats; r++) {
        for (const variant of r % 2 ? ['single', 'blocked'] : ['blocked', 'single']) {
          backend[flag] = variant === 'blocked';
          times[variant].push(await once(side.run[pass]));
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
