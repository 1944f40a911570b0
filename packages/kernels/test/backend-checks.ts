/**
 * The backend's own behaviour on one mode, written once for both harnesses (Node:
 * src/backend.test.ts; browser: test/browser/entry.ts): training steps equal to the reference
 * backend's, no compile and no leak over a training loop (counted in tensors, bytes and the
 * device's own textures or buffers), and data staying on the device between kernels. Each
 * check throws a message naming what differs; none needs a test runner.
 */
import * as T from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import type { GpuBackend, GpuMode } from '../src/index.js';
import { outputAndGrads } from '../src/split-cases.js';
import { watchDeviceObjects } from './device-objects.js';
import { TOLERANCE } from './modes.js';

/** A small conv net: conv 3x3 (4 filters) -> relu -> maxPool 2 -> linear 3, cross-entropy loss. */
function makeNet() {
  const g = new T.Generator(3);
  const param = (shape: number[], scale: number) => {
    const t = T.keep(T.mul(T.randn(shape, { generator: g }), scale));
    t.requiresGrad = true;
    return t;
  };
  const params = [param([4, 1, 3, 3], 0.3), param([4], 0.1), param([3, 36], 0.2), param([3], 0.1)];
  const x = T.keep(T.randn([2, 1, 8, 8], { generator: g }));
  const y = T.keep(T.tensor(new Int32Array([0, 2]), [2]));
  const step = () => {
    T.tidy(() => {
      const [w1, b1, w2, b2] = params;
      const h = T.maxPool2d(T.relu(T.conv2d(x, w1, { bias: b1 })), { kernelSize: 2 });
      const loss = T.crossEntropy(T.linear(T.flatten(h, 1), w2, b2), y);
      loss.backward();
    });
    T.tidy(() =>
      T.noGrad(() => {
        for (const p of params) {
          const grad = p.grad;
          if (!grad) throw new Error('no gradient');
          p.assign(T.sub(p, T.mul(grad, 0.1)));
          grad.dispose();
          p.grad = null;
        }
      }),
    );
  };
  const dispose = () => T.dispose([...params, x, y]);
  return { step, params, dispose };
}

/** The parameters after `steps` SGD steps of `makeNet` on `backend`. */
async function trainedParams(backend: string, steps: number): Promise<Float32Array[]> {
  await T.setBackend(backend);
  const net = makeNet();
  for (let i = 0; i < steps; i++) net.step();
  const values = await Promise.all(net.params.map(async (p) => (await p.data()) as Float32Array));
  net.dispose();
  await T.setBackend('reference');
  return values;
}

/** Throws `message: expected ..., got ...` unless `actual` equals `expected` (as JSON). */
function expectEqual(actual: unknown, expected: unknown, message: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}

/** 5 SGD steps of a small conv net on `mode` give the reference backend's parameters. */
export async function checkTrainsLikeReference(mode: GpuMode): Promise<void> {
  const expected = await trainedParams('reference', 5);
  const actual = await trainedParams(mode, 5);
  // The steps moved the parameters: a backend that computed no gradient would fail.
  const initial = await trainedParams('reference', 0);
  const moved = Math.max(...expected[0].map((v, i) => Math.abs(v - initial[0][i])));
  if (!(moved > 1e-2)) throw new Error(`the reference steps moved conv1's weight by only ${moved}`);
  for (const [k, values] of actual.entries())
    assertClose(values, expected[k], TOLERANCE[mode], `${mode}: parameter ${k} after 5 steps`);
}

/**
 * After its first run, `steps - 1` more training steps on fixed shapes compile no kernel and
 * leave as many tensors and bytes live as before, and the device objects (GL textures,
 * GPUBuffers) stop growing after step 2: gpu.js makes some per kernel on its first calls
 * (webgpu: a kernel keeps its last output buffer, reads keep a staging pool), a fixed number
 * that does not grow with the steps, as a leak does.
 */
export async function checkStepCompilesOnceAndLeaksNothing(
  mode: GpuMode,
  steps: number,
): Promise<void> {
  await T.setBackend(mode);
  const backend = T.getBackend() as GpuBackend;
  const net = makeNet();
  // A device object freed after a step is queued on webgpu: a read waits for the queue.
  const settle = () => net.params[0].data();
  try {
    net.step();
    await settle();
    const deviceObjects = await watchDeviceObjects(backend);
    const compiles = backend.stats.compiles;
    const memory = T.memory();
    const buffers = backend.numBuffers();
    net.step();
    await settle();
    const afterStep2 = deviceObjects();
    for (let i = 2; i < steps; i++) net.step();
    await settle();
    expectEqual(backend.stats.compiles - compiles, 0, `${mode}: kernels compiled after step 1`);
    expectEqual(T.memory(), memory, `${mode}: T.memory() after ${steps} steps`);
    expectEqual(backend.numBuffers(), buffers, `${mode}: buffers after ${steps} steps`);
    expectEqual(backend.numBytes(), memory.numBytesInBackend, `${mode}: bytes held`);
    expectEqual(
      deviceObjects(),
      afterStep2,
      `${mode}: device objects (made minus freed since step 1) after ${steps} steps, against after step 2`,
    );
  } finally {
    net.dispose();
    await T.setBackend('reference');
  }
}

/** A chain of three ops is three launches and no readback; `data()` reads the known values. */
export async function checkStaysOnDevice(mode: GpuMode): Promise<void> {
  await T.setBackend(mode);
  const backend = T.getBackend() as GpuBackend;
  // 4 columns: webgpu and webgl2's blocked matmul (4 outputs per thread) needs no cut.
  const a = T.tensor(
    Array.from({ length: 16 }, (_, i) => i + 1),
    [4, 4],
  );
  const hundred = T.scalar(100); // written before counting: a GL mode uploads it with a kernel
  try {
    const launches = backend.stats.launches;
    const c = T.relu(T.sub(T.matmul(a, a), hundred));
    expectEqual(backend.stats.launches - launches, 3, `${mode}: launches of matmul, sub, relu`);
    expectEqual(
      Array.from(await c.data()),
      [0, 0, 10, 20, 102, 128, 154, 180, 214, 256, 298, 340, 326, 384, 442, 500],
      `${mode}: relu(a @ a - 100)`,
    );
    c.dispose();
  } finally {
    T.dispose([a, hundred]);
    await T.setBackend('reference');
  }
}

/** The checks above by name, as both harnesses run them (the leak check over 100 steps). */
/**
 * Shapes that take webgpu's block layouts: BatchMatMul's 2x2 blocks (two rows or more, K of 64
 * or more; odd rows and columns, a K that is no multiple of 4, op(A) transposed in the linear
 * layer's weight gradient, op(B) in its forward pass) and the stride-1 data gradient's quads
 * along the flattened plane (a plane that is no multiple of 4, a row of 4, padding that
 * differs between the axes, dy shorter than dx, groups).
 */
const LAYOUT_CASES: { name: string; shapes: number[][]; f: (...xs: T.Tensor[]) => T.Tensor }[] = [
  {
    name: 'batched matmul [2, 5, 70] x [2, 70, 7]',
    shapes: [
      [2, 5, 70],
      [2, 70, 7],
    ],
    f: T.matmul,
  },
  {
    name: 'linear [3, 70] -> 5',
    shapes: [
      [3, 70],
      [5, 70],
    ],
    f: (x, w) => T.linear(x, w),
  },
  {
    name: 'linear [66, 9] -> 5',
    shapes: [
      [66, 9],
      [5, 9],
    ],
    f: (x, w) => T.linear(x, w),
  },
  {
    name: 'conv2d 3x3 padding 1 [2, 3, 7, 6]',
    shapes: [
      [2, 3, 7, 6],
      [4, 3, 3, 3],
    ],
    f: (x, w) => T.conv2d(x, w, { padding: 1 }),
  },
  {
    name: 'conv2d 5x5 padding [1, 2] [1, 2, 9, 5]',
    shapes: [
      [1, 2, 9, 5],
      [3, 2, 5, 5],
    ],
    f: (x, w) => T.conv2d(x, w, { padding: [1, 2] }),
  },
  {
    name: 'conv2d 3x3 padding 1 groups 2 [1, 4, 5, 4]',
    shapes: [
      [1, 4, 5, 4],
      [4, 2, 3, 3],
    ],
    f: (x, w) => T.conv2d(x, w, { padding: 1, groups: 2 }),
  },
];

/**
 * The block layouts a mode can switch (`quadsSpanRows`, `blocksRowPairs` on webgpu) agree with
 * the reference backend, output and gradients, with each switched on and off; the other modes
 * run the same cases once.
 */
async function checkBlockLayouts(mode: GpuMode): Promise<void> {
  for (const c of LAYOUT_CASES) {
    const expected = await outputAndGrads(c, 'reference');
    await T.setBackend(mode);
    const backend = T.getBackend() as GpuBackend;
    const saved = { quadsSpanRows: backend.quadsSpanRows, blocksRowPairs: backend.blocksRowPairs };
    const settings = saved.quadsSpanRows || saved.blocksRowPairs ? [true, false] : [false];
    try {
      for (const on of settings) {
        Object.assign(backend, { quadsSpanRows: on, blocksRowPairs: on });
        const actual = await outputAndGrads(c, mode);
        const what = ['output', ...c.shapes.map((_, k) => `gradient of input ${k}`)];
        expected.forEach((values, k) => {
          assertClose(
            actual[k],
            values,
            TOLERANCE[mode],
            `${c.name} on ${mode} (${on ? 'block layouts' : 'without them'}): ${what[k]}`,
          );
        });
      }
    } finally {
      Object.assign(backend, saved);
    }
    await T.setBackend('reference');
  }
}

export const BACKEND_CHECKS: readonly { name: string; check: (mode: GpuMode) => Promise<void> }[] =
  [
    {
      name: 'trains a small conv net as the reference backend does (5 SGD steps)',
      check: checkTrainsLikeReference,
    },
    {
      name: 'a training step on fixed shapes compiles nothing after its first run and leaks nothing (tensors, bytes, device textures or buffers)',
      check: (mode) => checkStepCompilesOnceAndLeaksNothing(mode, 100),
    },
    {
      name: 'keeps results on the device between kernels and reads back only in read()',
      check: checkStaysOnDevice,
    },
    {
      name: "webgpu's block layouts (2x2 matmul blocks, data-gradient quads along the plane) agree with the reference backend, switched on and off",
      check: checkBlockLayouts,
    },
  ];
