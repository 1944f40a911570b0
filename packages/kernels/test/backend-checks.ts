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
  ];
