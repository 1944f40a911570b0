// The page side of bench/browser-layers.mjs: the layer benchmark of layers-common.mjs on one gpu.js
// browser mode beside TF.js on its comparable backend in the same page. Reads its settings from
// globalThis.GPUNET_BENCH and leaves the rows (as they are measured), any error and isDone on
// globalThis.gpunetBench.
import '../dist/index.js';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { runPair } from './layers-common.mjs';

const g = globalThis;
const settings = g.GPUNET_BENCH ?? { mode: 'webgl2', peer: 'webgl' };
const result = { rows: [], error: '', isDone: false };
g.gpunetBench = result;
// gpu.js's webgl mode is WebGL 1: hold TF.js to WebGL 1 too there.
if (settings.mode === 'webgl') tf.env().set('WEBGL_VERSION', 1);
try {
  await runPair({
    ...settings,
    onRow: (row) => result.rows.push(row),
    log: (line) => console.log(line),
  });
} catch (error) {
  result.error = String(error?.message ?? error).split('\n')[0];
}
result.isDone = true;
