/**
 * Cases for the split paths (src/split.ts), run by split.test.ts in Node and by the browser
 * harness: each case runs with the backend's `indexLimit` lowered to SPLIT_TEST_LIMIT, so that
 * small tensors take the same paths as AlexNet's large ones (fc6's weight, batch-128
 * activations), or its `loopLimit` lowered, so that short loops take the paths of long ones,
 * and is compared, forward and backward, with the reference backend. Framework free:
 * `checkSplitCase` throws an Error naming what differs.
 */
import * as T from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { GpuBackend } from './backend.js';
import type { GpuMode } from './modes.js';

/** The lowered limit: every case has tensors over it, and rows under it. */
export const SPLIT_TEST_LIMIT = 1024;

export interface SplitCase {
  name: string;
  shapes: number[][];
  f: (...xs: T.Tensor[]) => T.Tensor;
  /** Splits the case must make, at least (counted in `stats.splits`). */
  minSplits: number;
  /**
   * The cases of the loop limit (internal/loops.ts): the backend's `loopLimit` is lowered to
   * this instead of its index limit, on every mode (webasm, which has no loop limit, takes the
   * same plans).
   */
  loopLimit?: number;
}

const conv = { stride: 2, padding: 1 };

export const SPLIT_CASES: SplitCase[] = [
  {
    // x: 5 images of 396 elements (1980 in all); the filter gradient sums partials.
    name: 'conv2d + bias + relu, batch split (forward, data and filter gradients)',
    shapes: [[5, 3, 12, 11], [4, 3, 3, 3], [4]],
    f: (x, w, b) => T.relu(T.conv2d(x, w, { ...conv, bias: b })),
    minSplits: 3,
  },
  {
    // FusedConv2d (bias and ReLU in the convolution's write): the batch split passes the bias
    // whole to every block.
    name: 'conv2d with fused bias and relu, batch split',
    shapes: [[5, 3, 12, 11], [4, 3, 3, 3], [4]],
    f: (x, w, b) => T.conv2d(x, w, { ...conv, bias: b, activation: 'relu' }),
    minSplits: 3,
  },
  {
    name: 'conv2d groups 2, output over the limit with a small input',
    shapes: [
      [9, 2, 6, 6],
      [8, 1, 3, 3],
    ],
    f: (x, w) => T.conv2d(x, w, { padding: 1, groups: 2 }),
    minSplits: 2,
  },
  {
    name: 'LRN then 3x3/2 max pool, batch split',
    shapes: [[6, 4, 9, 9]],
    f: (x) =>
      T.maxPool2d(T.localResponseNorm(x, { size: 5, alpha: 1e-2, beta: 0.75, k: 2 }), {
        kernelSize: 3,
        stride: 2,
      }),
    minSplits: 3,
  },
  {
    name: 'avg pool and adaptive avg pool, batch split',
    shapes: [[7, 3, 8, 9]],
    f: (x) => T.add(T.avgPool2d(x, { kernelSize: 2, stride: 2 }), T.adaptiveAvgPool2d(x, [4, 4])),
    minSplits: 2,
  },
  {
    // fc6 in miniature: the [50, 300] weight (15,000 elements) is over the limit. Forward splits
    // it by output columns, the input gradient by K with partial sums, the weight gradient by
    // output rows.
    name: 'linear with a weight over the limit (forward, input and weight gradients)',
    shapes: [[3, 300], [50, 300], [50]],
    f: (x, w, b) => T.linear(x, w, b),
    minSplits: 3,
  },
  {
    // A big input: forward and input gradient split M (rows), the weight gradient splits K.
    name: 'linear with an input over the limit (M and K splits)',
    shapes: [
      [60, 30],
      [20, 30],
    ],
    f: (x, w) => T.linear(x, w),
    minSplits: 3,
  },
  {
    name: 'softmax cross-entropy over [40, 50] rows',
    shapes: [[40, 50]],
    f: (x) =>
      T.crossEntropy(
        x,
        T.tensor(
          Array.from({ length: 40 }, (_, k) => (k * 7) % 50),
          [40],
          { dtype: 'int32' },
        ),
      ),
    minSplits: 2,
  },
  {
    name: 'elementwise: same shapes, broadcast rows and columns, unary',
    shapes: [[40, 50], [40, 50], [50], [40, 1]],
    f: (a, b, c, d) => T.tanh(T.mul(T.sub(T.add(a, c), d), T.sigmoid(b))),
    minSplits: 4,
  },
  {
    name: 'sum, max and min over dim 0, over all, and along rows',
    shapes: [[30, 4, 11]],
    f: (x) =>
      T.add(
        T.add(T.sum(x, 0), T.max(x, 0)),
        T.add(T.sum(T.reshape(T.sum(T.min(x, 2), 1), [30, 1, 1])), T.mean(x)),
      ),
    minSplits: 4,
  },
  {
    name: 'concat along dims 0 and 1, slice along dims 0 and 1',
    shapes: [
      [20, 30],
      [25, 30],
      [20, 40],
    ],
    f: (a, b, c) =>
      T.add(
        T.slice(T.concat([a, b], 0), [3, 2], [20, 25]),
        T.slice(T.concat([a, c], 1), [0, 20], [20, 25]),
      ),
    minSplits: 4,
  },
  {
    // More inputs than one kernel may read (WebGPU: 8 storage buffers with the output).
    name: 'concat of ten along dim 1, in groups',
    shapes: Array.from({ length: 10 }, () => [3, 40]),
    f: (...xs) => T.concat(xs, 1),
    minSplits: 1,
  },
  {
    name: 'permute keeping dim 0, pad, broadcastTo, cast',
    shapes: [
      [12, 9, 10],
      [1, 12],
    ],
    f: (x, r) =>
      T.add(
        T.pad(T.permute(x, [0, 2, 1]), [1, 2, 0, 1]),
        T.cast(T.cast(T.mul(T.broadcastTo(r, [12, 11, 12]), 3), 'int32'), 'float32'),
      ),
    minSplits: 4,
  },
  {
    // A batch of images mirrored (AlexNet's test-time flips), over the limit: blocks of rows.
    name: 'flip of images along channels and width',
    shapes: [[6, 3, 9, 11]],
    f: (x) => T.flip(x, [1, 3]),
    minSplits: 2,
  },
  {
    // A thread of the filter gradient loops over the batch's output rows: 6 images of 7x7
    // outputs pass the lowered limit, so the batch runs in blocks whose partials are summed.
    // The loss's sum over 882 elements runs in two passes.
    name: 'conv2d filter gradient over more images than a thread may loop over',
    shapes: [
      [6, 2, 9, 9],
      [3, 2, 3, 3],
    ],
    f: (x, w) => T.conv2d(x, w),
    minSplits: 1,
    loopLimit: 100,
  },
  {
    // K = 500 is past 4 * (100 - 1): the forward product is summed over two blocks of K, on a
    // single matrix and on a batch of two.
    name: 'matmul with K longer than a thread may loop over, single and batched',
    shapes: [
      [3, 500],
      [4, 500],
      [2, 3, 500],
      [2, 500, 4],
    ],
    f: (x, w, a, b) => T.add(T.linear(x, w), T.sum(T.matmul(a, b), 0)),
    minSplits: 2,
    loopLimit: 100,
  },
];

function values(shape: number[], seed: number): Float32Array {
  const gen = new T.Generator(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
}

/**
 * The output of `c.f` on `backend` and the gradient of each input, for fixed inputs and a fixed
 * cotangent (the same on every backend).
 */
export async function outputAndGrads(
  c: Pick<SplitCase, 'shapes' | 'f'>,
  backend: string,
): Promise<Float32Array[]> {
  await T.setBackend(backend);
  const xs = c.shapes.map((shape, k) => {
    const t = T.tensor(values(shape, 100 + k), shape);
    t.requiresGrad = true;
    return t;
  });
  const kept = T.tidy(() => {
    const out = c.f(...xs);
    const cotangent = T.tensor(values([...out.shape], 7), out.shape);
    T.sum(T.mul(out, cotangent)).backward();
    return [out, ...xs.map((x) => x.grad ?? T.zeros([0]))];
  });
  const results: Float32Array[] = [];
  for (const t of kept) results.push((await t.data()) as Float32Array);
  T.dispose([...kept, ...xs]);
  return results;
}

/**
 * Runs a case on `mode` with the index limit lowered to SPLIT_TEST_LIMIT and on the reference
 * backend, and throws unless the output and every gradient agree within `tolerance`, the case
 * split at least `minSplits` kernels, and no buffer is left behind.
 */
export async function checkSplitCase(
  mode: GpuMode,
  c: SplitCase,
  tolerance: { atol: number; rtol: number },
): Promise<void> {
  const expected = await outputAndGrads(c, 'reference');
  await T.setBackend(mode);
  const backend = T.getBackend();
  if (!(backend instanceof GpuBackend)) throw new Error(`${mode} is not a gpu.js backend`);
  const saved = { indexLimit: backend.indexLimit, loopLimit: backend.loopLimit };
  const splitsBefore = backend.stats.splits;
  const fallbacksBefore = backend.stats.fallbacks;
  const buffersBefore = backend.numBuffers();
  let actual: Float32Array[];
  try {
    if (c.loopLimit === undefined) backend.indexLimit = SPLIT_TEST_LIMIT;
    else backend.loopLimit = c.loopLimit;
    actual = await outputAndGrads(c, mode);
  } finally {
    Object.assign(backend, saved);
  }
  const splits = backend.stats.splits - splitsBefore;
  if (splits < c.minSplits)
    throw new Error(
      `${c.name} on ${mode}: ${splits} kernels split, expected at least ${c.minSplits}`,
    );
  if (backend.stats.fallbacks !== fallbacksBefore)
    throw new Error(`${c.name} on ${mode}: a kernel fell back to cpu mode instead of splitting`);
  if (backend.numBuffers() !== buffersBefore)
    throw new Error(
      `${c.name} on ${mode}: ${backend.numBuffers() - buffersBefore} buffers left behind`,
    );
  const what = ['output', ...c.shapes.map((_, k) => `gradient of input ${k}`)];
  expected.forEach((values, k) => {
    assertClose(actual[k], values, tolerance, `${c.name} on ${mode} (split): ${what[k]}`);
  });
  await T.setBackend('reference');
}
