import * as T from '@gpunet/tensor';
import {
  type ConformanceCase,
  checkConformance,
  FLOAT32_TOLERANCE,
} from '@gpunet/tensor/conformance';
import { assertClose } from '@gpunet/tensor/testing';
import { afterAll, describe, it } from 'vitest';
import { WasmBackend } from '../index.js';

// Three threads whatever the machine: LRN at batch 1 and 2 then splits positions, not images.
T.registerBackend('wasm-3threads', () => WasmBackend.create({ threads: 3 }));

const uniform = (shape: number[], low = -1, high = 1) => ({ shape, low, high });
const integers = (shape: number[], high: number) => ({
  shape,
  high,
  isInteger: true,
  dtype: 'float32' as const,
});
const paperLrn = { size: 5, alpha: 5e-4, beta: 0.75, k: 2 };

/**
 * The paths of the wasm pooling and LRN kernels that the shared suite's shapes do not reach:
 * max-pool's stride-2 SIMD path with ties, a 2-wide window and a clipped row, split over threads
 * (enough planes for the minimum work per thread); the separable path
 * (no padding, other strides); LRN over fewer positions than SIMD lanes (image by image), over
 * positions split among threads with a tile remainder, and windows wider than the channels.
 */
const cases: ConformanceCase[] = [
  {
    name: 'maxPool2d 3/2 ties (stride-2 SIMD, first maximum) [2, 3, 11, 13]',
    inputs: [integers([2, 3, 11, 13], 3)],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'maxPool2d 3/2 ties on 31 columns (steps of 8, 6 and 2) [1, 2, 7, 31]',
    inputs: [integers([1, 2, 7, 31], 3)],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'maxPool2d 3x3 stride [1, 2] ceil mode (3x3 steps on every row) [1, 2, 9, 20]',
    inputs: [uniform([1, 2, 9, 20])],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: [1, 2], ceilMode: true }),
  },
  {
    name: 'maxPool2d 2/2 (stride-2 SIMD, 2 columns, one step per row) [1, 4, 8, 8]',
    inputs: [uniform([1, 4, 8, 8])],
    f: (x) => T.maxPool2d(x, { kernelSize: 2, stride: 2 }),
  },
  {
    name: 'maxPool2d kernel [2, 3] stride [1, 2] ceil mode ties [2, 3, 6, 18]',
    inputs: [integers([2, 3, 6, 18], 4)],
    f: (x) => T.maxPool2d(x, { kernelSize: [2, 3], stride: [1, 2], ceilMode: true }),
  },
  {
    // 1,064,960 inputs: over the threads' minimum work (2^19 each), so split into plane ranges.
    name: 'maxPool2d 3/2 split over threads [4, 64, 64, 65]',
    inputs: [uniform([4, 64, 64, 65])],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'maxPool2d 3/1 (separable) [2, 3, 9, 10]',
    inputs: [uniform([2, 3, 9, 10])],
    f: (x) => T.maxPool2d(x, { kernelSize: 3, stride: 1 }),
  },
  {
    name: 'maxPool2d 2/3 ceil mode (separable, clipped windows) [1, 2, 8, 10]',
    inputs: [uniform([1, 2, 8, 10])],
    f: (x) => T.maxPool2d(x, { kernelSize: 2, stride: 3, ceilMode: true }),
  },
  {
    name: 'localResponseNorm over 3 positions (image by image) [2, 6, 1, 3]',
    inputs: [uniform([2, 6, 1, 3], -3, 3)],
    f: (x) => T.localResponseNorm(x, paperLrn),
  },
  {
    name: 'localResponseNorm batch 1, 575 positions (split, remainder tiles) [1, 9, 23, 25]',
    inputs: [uniform([1, 9, 23, 25], -3, 3)],
    f: (x) => T.localResponseNorm(x, paperLrn),
  },
  {
    name: 'localResponseNorm 4290 positions (tiles of 4096, 192 and a remainder) [3, 4, 65, 66]',
    inputs: [uniform([3, 4, 65, 66], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 3, alpha: 0.4, beta: 0.75, k: 1 }),
  },
  {
    name: 'localResponseNorm batch 2, 7 positions [2, 11, 1, 7]',
    inputs: [uniform([2, 11, 1, 7], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 3, alpha: 0.4, beta: 0.75, k: 1 }),
  },
  {
    name: 'localResponseNorm size 7 over 5 channels [2, 5, 4, 5]',
    inputs: [uniform([2, 5, 4, 5], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 7, alpha: 0.6, beta: 0.75, k: 1 }),
  },
  {
    name: 'localResponseNorm size 1 [1, 4, 3, 3]',
    inputs: [uniform([1, 4, 3, 3], -3, 3)],
    f: (x) => T.localResponseNorm(x, { size: 1, alpha: 0.5, beta: 0.5, k: 1 }),
  },
];

afterAll(async () => {
  await T.setBackend('reference');
});

describe('wasm pooling and LRN kernel paths against the reference backend', () => {
  for (const backend of ['wasm', 'wasm-3threads']) {
    it.each(cases)(`$name on ${backend}`, async (c) => {
      await checkConformance(c, backend, { tolerance: FLOAT32_TOLERANCE });
    });
  }
});

/** maxPool2d's output and input gradient for `values`, on `backend`. */
async function maxPoolWithGradient(
  backend: string,
  values: Float32Array,
  shape: number[],
  options: T.MaxPool2dOptions,
): Promise<[Float32Array, Float32Array]> {
  await T.setBackend(backend);
  const x = T.tensor(values, shape);
  x.requiresGrad = true;
  const y = T.maxPool2d(x, options);
  const cotangent = T.tensor(
    Float32Array.from({ length: y.size }, (_, i) => 1 + (i % 7)),
    y.shape,
  );
  T.sum(T.mul(y, cotangent)).backward();
  const result: [Float32Array, Float32Array] = [
    Float32Array.from(await y.data()),
    // backward() has set the gradient of x, which requires it.
    Float32Array.from(await x.grad!.data()),
  ];
  T.dispose([x, y, cotangent]);
  return result;
}

describe('wasm max-pool with NaN', () => {
  it.each([
    ['3/2', { kernelSize: 3, stride: 2 }, [1, 5, 9, 17]],
    ['2/2', { kernelSize: 2, stride: 2 }, [1, 5, 8, 16]],
    [
      '3/2 on 13 columns (6 outputs per row in one step)',
      { kernelSize: 3, stride: 2 },
      [1, 5, 9, 13],
    ],
    [
      '3/2 ceil mode, NaN in the clipped last window',
      { kernelSize: 3, stride: 2, ceilMode: true },
      [1, 5, 9, 18],
    ],
  ] as const)(
    '%s: NaN is the maximum of its windows and takes their gradient, as on the reference backend',
    async (_, options, shape) => {
      const [, planes, h, w] = shape;
      const generator = new T.Generator(5);
      const values = Float32Array.from({ length: planes * h * w }, () => generator.uniform());
      // One NaN per plane (a plane that read a NaN is pooled again exactly, so each is alone in
      // its plane): in the first column, in the middle, in the last column, on rows that two
      // windows share (where a NaN in a window's second or third row is what pmax drops), and
      // behind a larger number in its window (not the window's first tap).
      for (const [plane, row, column] of [
        [0, 2, 0],
        [1, 4, 9],
        [2, h - 1, w - 1],
        [3, 4, 7],
        [4, 4, w - 1],
      ]) {
        values[(plane * h + row) * w + column] = Number.NaN;
      }
      values[(4 * h + 4) * w + w - 2] = 2;
      const [y, dx] = await maxPoolWithGradient('wasm', values, [...shape], options);
      const [yRef, dxRef] = await maxPoolWithGradient('reference', values, [...shape], options);
      assertClose(y, yRef, FLOAT32_TOLERANCE, 'output');
      assertClose(dx, dxRef, FLOAT32_TOLERANCE, 'gradient');
    },
  );
});
