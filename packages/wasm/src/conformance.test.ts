import {
  conv2d,
  crossEntropy,
  flatten,
  Generator,
  getBackend,
  linear,
  maxPool2d,
  memory,
  noGrad,
  randn,
  relu,
  setBackend,
  tensor,
  tidy,
} from '@gpunet/tensor';
import { checkConformance, conformanceCases, FLOAT32_TOLERANCE } from '@gpunet/tensor/conformance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './index.js';
import type { WasmBackend } from './index.js';

/**
 * The shared conformance suite (@gpunet/tensor/conformance) on the wasm backend. It computes in
 * IEEE float32; the SIMD GEMM sums in a different order (blocks of 256 over k, 4 lanes, FMA in
 * the relaxed build), so results differ from the reference's float64 sums by rounding that grows
 * like sqrt(k) ulps: the suite's float32 tolerance holds. The Winograd convolutions add their
 * transforms' rounding (src/kernels/winograd.ts): measured on AlexNet's conv3 shape at batch 4
 * against float64, the largest error over the largest output is 1.4e-5 for F(4x4, 3x3) (8e-6
 * data gradient, 4e-6 filter gradient), 6e-7 for F(2x2, 3x3), 4e-7 for im2col; F(2x2, 5x5)
 * 5e-6 on conv2. All are inside the suite's atol of 1e-4 of the largest output.
 */
describe('wasm backend conformance: every op against the reference backend, forward and backward', () => {
  // AlexNet's layers take the float64 reference 5-15 s each alone (conv2: 1.3 G multiply-adds
  // over three passes), and several times that beside the suite's other files: their own limit.
  it.each(conformanceCases)(
    '$name',
    async (c) => {
      await checkConformance(c, 'wasm', { tolerance: FLOAT32_TOLERANCE });
    },
    300_000,
  );
});

const labels = (values: number[]) => tensor(values, [values.length], { dtype: 'int32' });

describe('wasm backend memory', () => {
  beforeAll(async () => {
    await setBackend('wasm');
  });
  afterAll(async () => {
    await setBackend('reference');
  });

  it('100 training steps of a small conv net leave tensors, bytes and the heap where step 1 left them', async () => {
    const generator = new Generator(1);
    const params = [
      randn([8, 3, 3, 3], { generator }),
      randn([8], { generator }),
      randn([10, 8 * 4 * 4], { generator }),
      randn([10], { generator }),
    ];
    for (const p of params) {
      p.requiresGrad = true;
      p.keep();
    }
    const images = randn([4, 3, 8, 8], { generator }).keep();
    const targets = labels([1, 2, 3, 4]).keep();
    const step = () =>
      tidy(() => {
        const h = maxPool2d(relu(conv2d(images, params[0], { bias: params[1], padding: 1 })), {
          kernelSize: 2,
        });
        crossEntropy(linear(flatten(h, 1), params[2], params[3]), targets).backward();
        noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad!.mul(0.01)));
            p.grad!.dispose();
            p.grad = null;
          }
        });
      });
    step();
    const backend = getBackend() as WasmBackend;
    const after1 = { ...memory(), heap: backend.heap.highWater };
    for (let i = 0; i < 99; i++) step();
    expect({ ...memory(), heap: backend.heap.highWater }).toEqual(after1);
  });
});
