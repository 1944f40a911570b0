import { describe, expect, it } from 'vitest';
import {
  abs,
  add,
  conv2d,
  div,
  equal,
  exp,
  greater,
  less,
  log,
  maximum,
  memory,
  minimum,
  mul,
  neg,
  pow,
  relu,
  reluInplace,
  sigmoid,
  sign,
  sqrt,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  weightedSum,
} from '../index.js';
import { assertClose } from '../testing.js';

const values = [-2, -0.5, 0, 0.5, 3];
const x = () => tensor(values);

describe('unary ops', () => {
  it.each([
    ['neg', neg, (v: number) => -v],
    ['exp', exp, Math.exp],
    ['abs', abs, Math.abs],
    ['sign', sign, Math.sign],
    ['relu', relu, (v: number) => Math.max(v, 0)],
    ['sigmoid', sigmoid, (v: number) => 1 / (1 + Math.exp(-v))],
    ['tanh', tanh, Math.tanh],
  ] as const)('%s matches its formula', (_name, op, f) => {
    assertClose(op(x()).dataSync(), values.map(f), { atol: 1e-6, rtol: 1e-6 });
  });

  it('log and sqrt match their formulas on positive inputs and give NaN below zero', () => {
    const p = tensor([0.25, 1, 4, -1]);
    assertClose(log(p).dataSync(), [Math.log(0.25), 0, Math.log(4), Number.NaN], { atol: 1e-6 });
    assertClose(sqrt(p).dataSync(), [0.5, 1, 2, Number.NaN]);
  });

  it('relu passes NaN through, as PyTorch does', () => {
    expect(Number.isNaN(relu(tensor([Number.NaN])).dataSync()[0])).toBe(true);
  });

  it("reluInplace frees its input once the output exists; the gradient is relu's, from the output", () => {
    const before = memory().numBytes;
    const w = tensor(values);
    w.requiresGrad = true;
    const z = neg(w);
    const y = reluInplace(z);
    // w and y hold buffers; z's is gone.
    expect(memory().numBytes - before).toBe(2 * values.length * 4);
    expect(() => z.dataSync()).toThrow(/was freed by an in-place op/);
    expect(() => add(z, z)).toThrow(/Add: tensor \d+ \[5\] was freed by an in-place op/);
    expect([...y.dataSync()]).toEqual([2, 0.5, 0, 0, 0]);
    const total = sum(y);
    total.backward();
    expect([...(w.grad as Tensor).dataSync()].map((v) => v + 0)).toEqual([-1, -1, 0, 0, 0]);
    expect(() => reluInplace(w)).toThrow(/is a leaf that requires grad/);
    for (const t of [w, z, y, total]) t.dispose();
    expect(memory().numBytes).toBe(before);
  });

  it('conv2d with a bias keeps only its output, not the output before the bias', () => {
    const input = tensor(
      Array.from({ length: 2 * 3 * 5 * 5 }, (_, i) => i / 50),
      [2, 3, 5, 5],
    );
    const weight = tensor(
      Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => i / 100),
      [4, 3, 3, 3],
    );
    const bias = tensor([1, 2, 3, 4]);
    const before = memory().numBytes;
    const y = conv2d(input, weight, { bias });
    expect(memory().numBytes - before).toBe(2 * 4 * 3 * 3 * 4);
    const plain = conv2d(input, weight);
    const [withBias, without] = [y.dataSync(), plain.dataSync()];
    for (let i = 0; i < withBias.length; i++) {
      expect(withBias[i]).toBeCloseTo((without[i] as number) + 1 + (Math.floor(i / 9) % 4), 5);
    }
  });

  it('neg and abs keep int32', () => {
    const i = tensor([-3, 4], [2], { dtype: 'int32' });
    expect(neg(i).dtype).toBe('int32');
    expect([...abs(i).dataSync()]).toEqual([3, 4]);
  });
});

describe('binary ops with broadcasting', () => {
  it('broadcasts [2, 1] with [3] to [2, 3] (NumPy rules)', () => {
    const a = tensor([[1], [2]]);
    const b = tensor([10, 20, 30]);
    const y = add(a, b);
    expect(y.shape).toEqual([2, 3]);
    expect([...y.dataSync()]).toEqual([11, 21, 31, 12, 22, 32]);
  });

  it('broadcasts a leading dim and inner size-1 dims: [2, 1, 3] * [4, 1]', () => {
    const a = tensor([[[1, 2, 3]], [[4, 5, 6]]]);
    const b = tensor([[1], [2], [3], [4]]);
    const y = mul(a, b);
    expect(y.shape).toEqual([2, 4, 3]);
    const v = y.dataSync();
    // y[i, j, k] = a[i, 0, k] * b[j, 0]
    expect(v[(1 * 4 + 2) * 3 + 1]).toBe(5 * 3);
    expect(v[(0 * 4 + 3) * 3 + 2]).toBe(3 * 4);
  });

  it('takes numbers on either side', () => {
    expect([...sub(1, tensor([1, 2])).dataSync()]).toEqual([0, -1]);
    expect([...div(tensor([1, 2]), 4).dataSync()]).toEqual([0.25, 0.5]);
    expect([...pow(tensor([2, 3]), 2).dataSync()]).toEqual([4, 9]);
  });

  it('maximum, minimum and comparisons give float32 results', () => {
    const a = tensor([1, 5, 3]);
    const b = tensor([2, 5, 1]);
    expect([...maximum(a, b).dataSync()]).toEqual([2, 5, 3]);
    expect([...minimum(a, b).dataSync()]).toEqual([1, 5, 1]);
    expect([...equal(a, b).dataSync()]).toEqual([0, 1, 0]);
    expect([...greater(a, b).dataSync()]).toEqual([0, 0, 1]);
    expect([...less(a, b).dataSync()]).toEqual([1, 0, 0]);
    expect(equal(a, b).dtype).toBe('float32');
  });

  it('int32 addition stays int32', () => {
    const y = add(tensor([1, 2], [2], { dtype: 'int32' }), tensor([3, 4], [2], { dtype: 'int32' }));
    expect(y.dtype).toBe('int32');
    expect([...y.dataSync()]).toEqual([4, 6]);
  });
});

describe('elementwise errors name the op, the argument and the shapes', () => {
  it('incompatible shapes', () => {
    expect(() => add(tensor([[1, 2, 3]]), tensor([1, 2]))).toThrow(
      'add: shapes [1, 3] and [2] cannot be broadcast together (dim -1 is 3 vs 2)',
    );
  });

  it('mixed dtypes', () => {
    expect(() => mul(tensor([1]), tensor([1], [1], { dtype: 'int32' }))).toThrow(
      'mul: dtypes differ (float32 and int32)',
    );
  });

  it('float-only ops refuse int32', () => {
    expect(() => exp(tensor([1], [1], { dtype: 'int32' }))).toThrow(
      'exp: expects a float32 tensor, got int32',
    );
    const i = tensor([1], [1], { dtype: 'int32' });
    expect(() => div(i, i)).toThrow('div: expects float32 tensors, got int32');
  });
});

describe('weightedSum', () => {
  it('sums weighted tensors, and its gradient to each input is its weight', () => {
    const a = tensor([1, 2, 3]);
    const b = tensor([10, 20, 30]);
    const c = tensor([-1, 0, 1]);
    for (const t of [a, b, c]) t.requiresGrad = true;
    const y = weightedSum([a, b, c], [0.5, -0.1, 2]);
    assertClose([...y.dataSync()], [0.5 - 1 - 2, 1 - 2, 1.5 - 3 + 2], { atol: 1e-6 });
    sum(mul(y, tensor([1, 2, 3]))).backward();
    assertClose([...(a.grad?.dataSync() ?? [])], [0.5, 1, 1.5], { atol: 1e-7 });
    assertClose([...(b.grad?.dataSync() ?? [])], [-0.1, -0.2, -0.3], { atol: 1e-7 });
    assertClose([...(c.grad?.dataSync() ?? [])], [2, 4, 6], { atol: 1e-7 });
  });

  it('names the tensor whose shape or dtype is wrong, and a missing weight', () => {
    const a = tensor([1, 2, 3]);
    expect(() => weightedSum([a, tensor([1, 2])], [1, 1])).toThrow(
      'weightedSum: tensor 1 has shape [2], tensor 0 [3]; expected one shape',
    );
    expect(() => weightedSum([a, tensor([1, 2, 3], [3], { dtype: 'int32' })], [1, 1])).toThrow(
      'weightedSum: tensor 1 is int32; expected float32',
    );
    expect(() => weightedSum([a, a], [1])).toThrow(
      'weightedSum: expected one weight per tensor and at least one tensor, got 2 tensors and 1 weights',
    );
  });
});
