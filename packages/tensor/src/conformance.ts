/**
 * The conformance suite every backend runs: each case is an op (or a short chain of ops) on
 * seeded inputs, computed forward and backward on the backend under test and on the reference
 * backend, and compared element by element. Together the cases reach every kernel of
 * kernel-names.ts, at AlexNet's real layer shapes (batch 1) and at small odd shapes (stride 4,
 * padding 2, groups 2, dilation, 3x3/2 pooling, non-square inputs, batches that threads split).
 *
 * Written once, run by each backend's tests: `it.each(conformanceCases)(..., (c) =>
 * checkConformance(c, 'wasm'))`.
 */
import { setBackend, tidy } from './engine.js';
import { conv2d } from './ops/conv.js';
import { randn, tensor } from './ops/creation.js';
import { dropout } from './ops/dropout.js';
import {
  abs,
  add,
  div,
  exp,
  log,
  maximum,
  minimum,
  mul,
  neg,
  pow,
  relu,
  sigmoid,
  sqrt,
  sub,
  tanh,
} from './ops/elementwise.js';
import { localResponseNorm } from './ops/lrn.js';
import { linear, matmul } from './ops/matmul.js';
import { adaptiveAvgPool2d, avgPool2d, maxPool2d } from './ops/pool.js';
import { argmax, max, mean, min, sum } from './ops/reduce.js';
import { cast, flatten, permute, transpose } from './ops/shape.js';
import { concat, pad, slice } from './ops/slice.js';
import { crossEntropy, logSoftmax, softmax } from './ops/softmax.js';
import { Generator } from './random.js';
import type { Tensor } from './tensor.js';
import { assertClose } from './testing.js';

/** One conformance case: `f` applied to seeded normal inputs of these shapes. */
export interface ConformanceCase {
  name: string;
  shapes: number[][];
  f: (...xs: Tensor[]) => Tensor;
  /** Absolute tolerance for this case (default 1e-4): long sums (AlexNet's convolutions) need more. */
  atol?: number;
  /** True for the AlexNet-size cases, which a slow backend may run at its own pace. */
  large?: boolean;
}

/** Options of `checkConformance`. */
export interface ConformanceOptions {
  /** Multiplies every case's tolerances: a backend that loses precision says so here. Default 1. */
  toleranceScale?: number;
}

const labels = (values: number[]) => tensor(values, [values.length], { dtype: 'int32' });

export const conformanceCases: ConformanceCase[] = [
  {
    name: 'conv1 (AlexNet): 3x227x227, 96 11x11 filters, stride 4',
    large: true,
    shapes: [[1, 3, 227, 227], [96, 3, 11, 11], [96]],
    f: (x, w, b) => conv2d(x, w, { bias: b, stride: 4 }),
    atol: 5e-4,
  },
  {
    name: 'conv2 (AlexNet): 96x27x27, 256 5x5 filters, pad 2, groups 2',
    large: true,
    shapes: [
      [1, 96, 27, 27],
      [256, 48, 5, 5],
    ],
    f: (x, w) => conv2d(x, w, { padding: 2, groups: 2 }),
    atol: 5e-4,
  },
  {
    name: 'conv3 (AlexNet): 256x13x13 -> 384, 3x3 pad 1',
    large: true,
    shapes: [
      [1, 256, 13, 13],
      [384, 256, 3, 3],
    ],
    f: (x, w) => conv2d(x, w, { padding: 1 }),
    atol: 5e-4,
  },
  {
    name: 'conv4 (AlexNet): groups 2',
    large: true,
    shapes: [
      [1, 384, 13, 13],
      [384, 192, 3, 3],
    ],
    f: (x, w) => conv2d(x, w, { padding: 1, groups: 2 }),
    atol: 5e-4,
  },
  {
    name: 'conv5 (AlexNet): groups 2',
    large: true,
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
    large: true,
    shapes: [[1, 9216], [4096, 9216], [4096]],
    f: (x, w, b) => linear(x, w, b),
    atol: 5e-4,
  },
  {
    name: 'fc8 (AlexNet) at batch 3: 4096 -> 1000',
    large: true,
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
    name: 'maxPool 2x2/2 without padding, ceil mode on odd sizes (clipped last windows)',
    shapes: [[2, 3, 7, 9]],
    f: (x) => maxPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true }),
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
  {
    name: 'unary family: neg, sqrt, abs, sigmoid, pow, exp, log',
    shapes: [[3, 7]],
    f: (x) => {
      const positive = add(abs(x), 0.5);
      return add(
        add(neg(sqrt(positive)), sigmoid(x)),
        add(pow(positive, 1.5), log(exp(mul(x, 0.5)))),
      );
    },
  },
  {
    name: 'shape kernels: slice, concat, pad, permute, broadcastTo',
    shapes: [
      [2, 3, 4],
      [2, 1, 4],
    ],
    f: (a, b) =>
      permute(pad(concat([slice(a, [0, 1], [-1, 2]), b], 1), [1, 2, 0, 1], 0.5), [2, 0, 1]),
  },
  {
    name: 'min, argmax and cast (forward only)',
    shapes: [[4, 9]],
    f: (x) => add(cast(argmax(x, 1), 'float32'), min(x, 1)),
  },
];

async function forwardAndGrads(
  c: ConformanceCase,
  backend: string,
): Promise<(Float32Array | Int32Array)[]> {
  await setBackend(backend);
  const generator = new Generator(99);
  const inputs = c.shapes.map((shape) => {
    const t = randn(shape, { generator });
    t.requiresGrad = true;
    return t;
  });
  const results = tidy(() => {
    const y = c.f(...inputs);
    const values = [y.dataSync()];
    if (!y.requiresGrad) return values;
    const direction = randn(y.shape, { generator: new Generator(7) });
    sum(mul(y, direction)).backward();
    return [
      ...values,
      ...inputs.map((t) => (t.grad ? t.grad.dataSync() : new Float32Array(t.size))),
    ];
  });
  for (const t of inputs) t.dispose();
  return results;
}

/**
 * Runs one case on `backend` and on the reference backend and throws, naming the case and the
 * output or gradient, unless every element agrees within the case's tolerance (rtol 1e-4).
 * Leaves the reference backend current. The backend must read synchronously (`dataSync`).
 */
export async function checkConformance(
  c: ConformanceCase,
  backend: string,
  options: ConformanceOptions = {},
): Promise<void> {
  const scale = options.toleranceScale ?? 1;
  try {
    const expected = await forwardAndGrads(c, 'reference');
    const actual = await forwardAndGrads(c, backend);
    const what = ['output', ...c.shapes.map((_, i) => `gradient of input ${i}`)];
    expected.forEach((values, i) => {
      assertClose(
        actual[i],
        values,
        { atol: (c.atol ?? 1e-4) * scale, rtol: 1e-4 * scale },
        `${c.name} on ${backend}: ${what[i]}`,
      );
    });
  } finally {
    await setBackend('reference');
  }
}
