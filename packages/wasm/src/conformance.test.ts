import {
  adaptiveAvgPool2d,
  add,
  avgPool2d,
  conv2d,
  crossEntropy,
  div,
  dropout,
  flatten,
  Generator,
  linear,
  localResponseNorm,
  logSoftmax,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  memory,
  minimum,
  mul,
  noGrad,
  randn,
  relu,
  setBackend,
  softmax,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  tidy,
  transpose,
} from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import './index.js';
import type { WasmBackend } from './index.js';

/**
 * Every kernel of the wasm backend against the reference backend, forward and backward, on
 * AlexNet's layer shapes at batch 1 and on small odd shapes. Both backends compute in float32;
 * the SIMD GEMM sums in a different order (blocks of 256 over k, 4 lanes), so results differ by
 * rounding that grows like sqrt(k) ulps: rtol 1e-4 with atol 1e-4 scaled to the output's size.
 */
interface Case {
  name: string;
  shapes: number[][];
  f: (...xs: Tensor[]) => Tensor;
  atol?: number;
}

const labels = (values: number[]) => tensor(values, [values.length], { dtype: 'int32' });

const cases: Case[] = [
  {
    name: 'conv1 (AlexNet): 3x227x227, 96 11x11 filters, stride 4',
    shapes: [[1, 3, 227, 227], [96, 3, 11, 11], [96]],
    f: (x, w, b) => conv2d(x, w, { bias: b, stride: 4 }),
    atol: 5e-4,
  },
  {
    name: 'conv2 (AlexNet): 96x27x27, 256 5x5 filters, pad 2, groups 2',
    shapes: [
      [1, 96, 27, 27],
      [256, 48, 5, 5],
    ],
    f: (x, w) => conv2d(x, w, { padding: 2, groups: 2 }),
    atol: 5e-4,
  },
  {
    name: 'conv3 (AlexNet): 256x13x13 -> 384, 3x3 pad 1',
    shapes: [
      [1, 256, 13, 13],
      [384, 256, 3, 3],
    ],
    f: (x, w) => conv2d(x, w, { padding: 1 }),
    atol: 5e-4,
  },
  {
    name: 'conv4 (AlexNet): groups 2',
    shapes: [
      [1, 384, 13, 13],
      [384, 192, 3, 3],
    ],
    f: (x, w) => conv2d(x, w, { padding: 1, groups: 2 }),
    atol: 5e-4,
  },
  {
    name: 'conv5 (AlexNet): groups 2',
    shapes: [
      [1, 384, 13, 13],
      [256, 192, 3, 3],
    ],
    f: (x, w) => conv2d(x, w, { padding: 1, groups: 2 }),
    atol: 5e-4,
  },
  {
    name: 'conv odd: stride [2, 3], padding [2, 1], dilation 2, non-square, batch 3',
    shapes: [
      [3, 4, 11, 9],
      [6, 2, 3, 2],
    ],
    f: (x, w) => conv2d(x, w, { stride: [2, 3], padding: [2, 1], dilation: 2, groups: 2 }),
  },
  {
    name: 'fc6 (AlexNet): 9216 -> 4096',
    shapes: [[1, 9216], [4096, 9216], [4096]],
    f: (x, w, b) => linear(x, w, b),
    atol: 5e-4,
  },
  {
    name: 'fc8 (AlexNet) at batch 3: 4096 -> 1000',
    shapes: [[3, 4096], [1000, 4096], [1000]],
    f: (x, w, b) => linear(x, w, b),
    atol: 5e-4,
  },
  {
    name: 'matmul batched, broadcast, odd sizes',
    shapes: [
      [2, 1, 13, 37],
      [3, 37, 19],
    ],
    f: matmul,
  },
  {
    name: 'matmul transposed operands',
    shapes: [
      [9, 17],
      [33, 17],
    ],
    f: (a, b) => matmul(a, transpose(b, 0, 1)),
  },
  {
    name: 'maxPool 3x3/2 (AlexNet pool1)',
    shapes: [[1, 96, 55, 55]],
    f: (x) => maxPool2d(x, { kernelSize: 3, stride: 2 }),
  },
  {
    name: 'avgPool padded, ceil mode',
    shapes: [[2, 3, 7, 6]],
    f: (x) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, ceilMode: true }),
  },
  {
    name: 'adaptiveAvgPool 13 -> 6',
    shapes: [[1, 256, 13, 13]],
    f: (x) => adaptiveAvgPool2d(x, 6),
  },
  {
    name: 'LRN (paper constants) on conv1 output',
    shapes: [[1, 96, 55, 55]],
    f: (x) => localResponseNorm(x, { size: 5, alpha: 5e-4, beta: 0.75, k: 2 }),
  },
  {
    name: 'LRN at batch 3, non-default constants (threads split the batch)',
    shapes: [[3, 7, 5, 4]],
    f: (x) => localResponseNorm(x, { size: 3, alpha: 0.3, beta: 0.6, k: 1.5 }),
  },
  {
    name: 'maxPool padded, dilated, ceil mode over many planes',
    shapes: [[4, 9, 9, 8]],
    f: (x) => maxPool2d(x, { kernelSize: 3, stride: 2, padding: 1, dilation: 2, ceilMode: true }),
  },
  {
    name: 'elementwise chain with broadcasting',
    shapes: [[4, 5], [5], [4, 1]],
    f: (a, b, c) => tanh(add(mul(a, b), relu(c))),
  },
  {
    name: 'maximum, minimum, sub, div with 4-D broadcasting (bias-like [1, C, 1, 1])',
    shapes: [[2, 3, 4, 5], [1, 3, 1, 1], [5]],
    f: (a, b, c) => div(sub(maximum(a, b), minimum(a, c)), add(mul(c, c), 1)),
  },
  { name: 'reductions', shapes: [[3, 4, 5]], f: (x) => add(mean(x, [0, 2]), max(x, 2).sum(0)) },
  {
    name: 'softmax, logSoftmax, crossEntropy with smoothing',
    shapes: [[6, 10]],
    f: (x) =>
      add(
        sum(softmax(x, 1)),
        add(
          sum(logSoftmax(x, 0)),
          crossEntropy(x, labels([0, 9, 3, 3, 7, 1]), { labelSmoothing: 0.1 }),
        ),
      ),
  },
  {
    name: 'dropout with a fixed mask, flatten',
    shapes: [[2, 3, 4]],
    f: (x) => flatten(dropout(x, { generator: new Generator(4) })),
  },
];

async function forwardAndGrads(c: Case, backend: string): Promise<Float32Array[]> {
  await setBackend(backend);
  const generator = new Generator(99);
  const inputs = c.shapes.map((shape) => {
    const t = randn(shape, { generator });
    t.requiresGrad = true;
    return t;
  });
  const results = tidy(() => {
    const y = c.f(...inputs);
    const direction = randn(y.shape, { generator: new Generator(7) });
    sum(mul(y, direction)).backward();
    return [y.dataSync() as Float32Array, ...inputs.map((t) => t.grad!.dataSync() as Float32Array)];
  });
  for (const t of inputs) t.dispose();
  return results;
}

describe('wasm backend conformance: every op against the reference backend, forward and backward', () => {
  afterAll(async () => {
    await setBackend('reference');
  });

  it.each(cases)('$name', async (c) => {
    const expected = await forwardAndGrads(c, 'reference');
    const actual = await forwardAndGrads(c, 'wasm');
    const what = ['output', ...c.shapes.map((_, i) => `gradient of input ${i}`)];
    expected.forEach((values, i) => {
      assertClose(actual[i], values, { atol: c.atol ?? 1e-4, rtol: 1e-4 }, `${c.name}: ${what[i]}`);
    });
  });
});

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
    const backend = (await import('@gpunet/tensor')).getBackend() as WasmBackend;
    const after1 = { ...memory(), heap: backend.heap.highWater };
    for (let i = 0; i < 99; i++) step();
    expect({ ...memory(), heap: backend.heap.highWater }).toEqual(after1);
  });
});
