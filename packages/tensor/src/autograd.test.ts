import { describe, expect, it } from 'vitest';
import {
  abs,
  adaptiveAvgPool2d,
  add,
  avgPool2d,
  broadcastTo,
  concat,
  conv2d,
  crossEntropy,
  div,
  dropout,
  exp,
  flatten,
  flip,
  Generator,
  getKernel,
  linear,
  localResponseNorm,
  log,
  logSoftmax,
  matmul,
  max,
  maximum,
  maxPool2d,
  mean,
  min,
  minimum,
  mul,
  neg,
  noGrad,
  pad,
  permute,
  pow,
  rand,
  randn,
  registerKernel,
  relu,
  reluInplace,
  reshape,
  sigmoid,
  slice,
  softmax,
  split,
  sqrt,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  tidy,
  transpose,
} from './index.js';
import { gradcheck } from './testing.js';

/** Seeded inputs: normal values, or uniform in [lo, hi) for ops that need a domain. */
function inputs(shapes: number[][], seed = 0, range?: [number, number]): Tensor[] {
  const generator = new Generator(seed);
  return shapes.map((shape) => {
    if (!range) return randn(shape, { generator });
    return add(mul(rand(shape, { generator }), range[1] - range[0]), range[0]);
  });
}

/** Distinct values with gaps of 1 / size, shuffled: no ties, so max and max-pool are differentiable. */
function distinct(shape: number[], seed = 0): Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: size }, (_, i) => i / size);
  const generator = new Generator(seed);
  for (let i = size - 1; i > 0; i--) {
    const j = generator.integer(i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return tensor(values, shape);
}

const labels = (values: number[]) => tensor(values, [values.length], { dtype: 'int32' });

describe('every gradient matches finite differences', () => {
  const cases: [string, (...xs: Tensor[]) => Tensor, () => Tensor[], object?][] = [
    ['neg', neg, () => inputs([[3, 4]])],
    ['exp', exp, () => inputs([[3, 4]])],
    ['log', log, () => inputs([[3, 4]], 0, [0.5, 2])],
    ['sqrt', sqrt, () => inputs([[3, 4]], 0, [0.5, 2])],
    ['abs', abs, () => inputs([[3, 4]], 0, [0.2, 1]).map((t) => mul(t, tensor([1, -1, 1, -1])))],
    ['relu', relu, () => inputs([[3, 4]], 0, [0.2, 1]).map((t) => mul(t, tensor([1, -1, 1, -1])))],
    [
      'reluInplace after an op (its input freed)',
      (x: Tensor) => reluInplace(mul(x, 2)),
      () => inputs([[3, 4]], 0, [0.2, 1]).map((t) => mul(t, tensor([1, -1, 1, -1]))),
    ],
    ['sigmoid', sigmoid, () => inputs([[3, 4]])],
    ['tanh', tanh, () => inputs([[3, 4]])],
    ['add with broadcasting', add, () => inputs([[2, 3], [3]])],
    [
      'sub with broadcasting',
      sub,
      () =>
        inputs([
          [2, 1, 3],
          [4, 1],
        ]),
    ],
    [
      'mul with broadcasting',
      mul,
      () =>
        inputs([
          [2, 3],
          [2, 1],
        ]),
    ],
    ['div with broadcasting', div, () => [...inputs([[2, 3]]), ...inputs([[3]], 1, [0.5, 2])]],
    [
      'pow (base and exponent)',
      pow,
      () => [...inputs([[2, 3]], 0, [0.5, 2]), ...inputs([[2, 3]], 1, [-1, 2])],
    ],
    ['maximum', maximum, () => [distinct([2, 3], 1), distinct([2, 3], 2)]],
    ['minimum', minimum, () => [distinct([2, 3], 1), distinct([2, 3], 2)]],
    ['sum over a dim', (x) => sum(x, 1), () => inputs([[2, 3, 4]])],
    ['mean over two dims with keepdim', (x) => mean(x, [0, 2], true), () => inputs([[2, 3, 4]])],
    ['max over a dim', (x) => max(x, -1), () => [distinct([3, 5])]],
    ['min over all', (x) => min(x), () => [distinct([3, 5])]],
    [
      'reshape and flatten',
      (x) => flatten(reshape(x, [6, 2]), 0).mul(tensor(Array.from({ length: 12 }, (_, i) => i))),
      () => inputs([[3, 4]]),
    ],
    ['permute', (x) => permute(x, [2, 0, 1]), () => inputs([[2, 3, 4]])],
    ['transpose', (x) => transpose(x, 0, 2), () => inputs([[2, 3, 4]])],
    ['broadcastTo', (x) => broadcastTo(x, [2, 3, 4]), () => inputs([[3, 1]])],
    ['slice', (x) => slice(x, [1, 0, 2], [1, -1, 2]), () => inputs([[2, 3, 4]])],
    [
      'concat',
      (a, b) => concat([a, b], 1),
      () =>
        inputs([
          [2, 3],
          [2, 2],
        ]),
    ],
    ['split', (x) => mul(split(x, [1, 3], 1)[1], 2), () => inputs([[2, 4]])],
    ['pad', (x) => pad(x, [1, 2, 0, 1], 3), () => inputs([[2, 3]])],
    ['flip', (x) => flip(x, [0, -1]), () => inputs([[2, 3, 4]])],
    [
      'matmul 2-D',
      matmul,
      () =>
        inputs([
          [3, 4],
          [4, 2],
        ]),
    ],
    [
      'matmul batched with broadcasting',
      matmul,
      () =>
        inputs([
          [2, 1, 3, 4],
          [3, 4, 2],
        ]),
    ],
    ['matmul vector-matrix', matmul, () => inputs([[4], [4, 2]])],
    ['linear', linear, () => inputs([[5, 4], [3, 4], [3]])],
    [
      'conv2d groups=2, stride 4, padding 2 (AlexNet-like)',
      (x, w, b) => conv2d(x, w, { bias: b, stride: 4, padding: 2, groups: 2 }),
      () => inputs([[1, 4, 11, 11], [4, 2, 3, 3], [4]]),
    ],
    [
      'conv2d stride [2, 1], dilation 2, non-square',
      (x, w) => conv2d(x, w, { stride: [2, 1], dilation: 2, padding: [1, 0] }),
      () =>
        inputs([
          [2, 2, 7, 6],
          [3, 2, 2, 3],
        ]),
    ],
    [
      'maxPool2d 3x3/2 overlapping',
      (x) => maxPool2d(x, { kernelSize: 3, stride: 2 }),
      () => [distinct([1, 2, 7, 7])],
    ],
    [
      'maxPool2d padded, ceil mode',
      (x) => maxPool2d(x, { kernelSize: 2, stride: 2, padding: 1, ceilMode: true }),
      () => [distinct([1, 2, 5, 4])],
    ],
    [
      'avgPool2d',
      (x) => avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 }),
      () => inputs([[1, 2, 5, 6]]),
    ],
    [
      'avgPool2d ceil, countIncludePad false',
      (x) => avgPool2d(x, { kernelSize: 2, stride: 2, ceilMode: true, countIncludePad: false }),
      () => inputs([[1, 2, 5, 5]]),
    ],
    ['adaptiveAvgPool2d', (x) => adaptiveAvgPool2d(x, [2, 3]), () => inputs([[1, 2, 5, 7]])],
    [
      'localResponseNorm (paper constants)',
      (x) => localResponseNorm(x, { size: 5, alpha: 5e-4 * 100, beta: 0.75, k: 2 }),
      () => inputs([[1, 7, 2, 3]]),
    ],
    [
      'localResponseNorm even size',
      (x) => localResponseNorm(x, { size: 2, alpha: 0.3, beta: 1.5, k: 1 }),
      () => inputs([[2, 3, 2, 2]]),
    ],
    ['softmax', (x) => softmax(x, 1), () => inputs([[3, 5]])],
    ['logSoftmax', (x) => logSoftmax(x, 0), () => inputs([[3, 5]])],
    ['crossEntropy', (x) => crossEntropy(x, labels([0, 4, 2])), () => inputs([[3, 5]])],
    [
      'crossEntropy with label smoothing, summed',
      (x) => crossEntropy(x, labels([1, 1, 3]), { labelSmoothing: 0.2, reduction: 'sum' }),
      () => inputs([[3, 5]]),
    ],
    [
      'dropout (fixed mask)',
      (x) => dropout(x, { p: 0.4, generator: new Generator(11) }),
      () => inputs([[4, 5]]),
    ],
  ];

  it.each(cases)('%s', async (_name, f, make) => {
    await gradcheck(f, make());
  });

  it('catches a wrong gradient (the checker can fail)', async () => {
    const wrong = (x: Tensor) => {
      const y = exp(x);
      // Replace exp's gradient with 2 * the right one.
      y.gradFn = (dy, out) => [mul(mul(dy, out), 2)];
      return y;
    };
    await expect(gradcheck(wrong, inputs([[2, 2]]))).rejects.toThrow(
      /gradcheck: input 0 \[2, 2\] element 0: backward gives/,
    );
  });
});

describe('autograd semantics (PyTorch)', () => {
  it('accumulates .grad over two backward calls', () => {
    const w = tensor([1, 2, 3]);
    w.requiresGrad = true;
    sum(mul(w, w)).backward();
    sum(mul(w, w)).backward();
    expect([...w.grad!.dataSync()]).toEqual([4, 8, 12]);
  });

  it('a tensor used twice gets both contributions', () => {
    const x = tensor([3]);
    x.requiresGrad = true;
    add(mul(x, x), x).backward();
    expect(x.grad!.dataSync()[0]).toBe(7);
  });

  it('max splits the gradient evenly between ties, as torch.amax', () => {
    const x = tensor([1, 3, 3]);
    x.requiresGrad = true;
    max(x).backward();
    expect([...x.grad!.dataSync()]).toEqual([0, 0.5, 0.5]);
  });

  it('overlapping max-pool windows that share their maximum add up its gradient', () => {
    const values = new Array(25).fill(0);
    values[12] = 1; // the centre belongs to all four 3x3/2 windows of a 5x5 image
    const x = tensor(values, [1, 1, 5, 5]);
    x.requiresGrad = true;
    sum(maxPool2d(x, { kernelSize: 3, stride: 2 })).backward();
    expect(x.grad!.dataSync()[12]).toBe(4);
  });

  it('noGrad and detach record nothing', () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    expect(noGrad(() => mul(x, 2)).requiresGrad).toBe(false);
    expect(x.detach().requiresGrad).toBe(false);
    expect(mul(x, 2).requiresGrad).toBe(true);
  });

  it('backward of a non-scalar needs a gradient; int32 tensors cannot require grad', () => {
    const x = tensor([1, 2]);
    x.requiresGrad = true;
    expect(() => mul(x, 2).backward()).toThrow(
      'backward: a gradient is needed for a non-scalar tensor [2]',
    );
    mul(x, 2).backward(tensor([1, 10]));
    expect([...x.grad!.dataSync()]).toEqual([2, 20]);
    const i = tensor([1], [1], { dtype: 'int32' });
    expect(() => {
      i.requiresGrad = true;
    }).toThrow('requiresGrad: only float32 tensors can require gradients, this one is int32');
  });

  it('only leaves get .grad, and a graph of 10,000 ops does not overflow the stack', () => {
    const x = tensor([1]);
    x.requiresGrad = true;
    let y = x;
    for (let i = 0; i < 10_000; i++) y = add(y, 0);
    y.backward();
    expect(x.grad!.dataSync()[0]).toBe(1);
  });
});

describe('gradients of tensors that do not require grad', () => {
  it('are never computed: a frozen weight costs no product in backward, a frozen bias no sum', () => {
    // Count the kernels backward runs, on the reference backend, by wrapping their registrations.
    const counts = new Map<string, number>();
    const restore: (() => void)[] = [];
    for (const name of [
      'BatchMatMul',
      'Sum',
      'Conv2dBackpropFilter',
      'Conv2dBackpropInput',
    ] as const) {
      const original = getKernel(name, 'reference');
      if (!original) throw new Error(`no reference ${name}`);
      const counted: typeof original = {
        ...original,
        kernelFunc: (args) => {
          counts.set(name, (counts.get(name) ?? 0) + 1);
          return original.kernelFunc(args);
        },
      };
      registerKernel(counted);
      restore.push(() => registerKernel(original));
    }
    try {
      const g = new Generator(3);
      const x = randn([4, 3], { generator: g });
      const w = randn([2, 3], { generator: g });
      const bias = randn([2], { generator: g });
      const run = () =>
        tidy(() => {
          counts.clear();
          linear(x, w, bias).pow(2).sum().backward();
          return Object.fromEntries(counts);
        });
      // Trainable weight and bias, constant input: one product (dW) and the bias's reduction.
      w.requiresGrad = true;
      bias.requiresGrad = true;
      const trainable = run();
      expect(w.grad).not.toBeNull();
      // Frozen weight and bias, input requiring grad: only dX's product, no reduction for the bias.
      w.grad?.dispose();
      w.grad = null;
      bias.grad?.dispose();
      bias.grad = null;
      w.requiresGrad = false;
      bias.requiresGrad = false;
      x.requiresGrad = true;
      const frozen = run();
      expect([w.grad, bias.grad]).toEqual([null, null]);
      expect(x.grad).not.toBeNull();
      // The forward runs one BatchMatMul and the loss one Sum in both cases.
      expect(trainable.BatchMatMul).toBe(2);
      expect(frozen.BatchMatMul).toBe(2);
      expect((trainable.Sum ?? 0) - (frozen.Sum ?? 0)).toBe(1);
      // A convolution with a frozen filter over an input that needs no grad records nothing.
      const image = randn([1, 2, 5, 5], { generator: g });
      const filter = randn([3, 2, 3, 3], { generator: g });
      const head = randn([3], { generator: g });
      head.requiresGrad = true;
      tidy(() => {
        counts.clear();
        const y = conv2d(image, filter);
        expect(y.requiresGrad).toBe(false);
        y.mean([0, 2, 3]).mul(head).sum().backward();
      });
      expect([counts.get('Conv2dBackpropFilter'), counts.get('Conv2dBackpropInput')]).toEqual([
        undefined,
        undefined,
      ]);
    } finally {
      for (const undo of restore) undo();
    }
  });
});
