import { describe, expect, it } from 'vitest';
import {
  cast,
  cat,
  concat,
  fullLike,
  narrow,
  onesLike,
  squeeze,
  sum,
  type Tensor,
  tensor,
  unsqueeze,
  zerosLike,
} from '../index.js';
import { gradcheck } from '../testing.js';
import { batchMatMul } from './matmul.js';
import { sumTo } from './reduce.js';

const values = (t: Tensor) => Array.from(t.dataSync());
const inputs = (shape: number[], seed = 1) => {
  // Fixed, distinct values away from 0: finite differences need no kinks.
  const size = shape.reduce((a, b) => a * b, 1);
  const t = tensor(
    Array.from({ length: size }, (_, i) => Math.sin(seed * 7 + i * 1.3) + 0.1 * i),
    shape,
  );
  t.requiresGrad = true;
  return t;
};

describe('zerosLike, onesLike, fullLike', () => {
  it('take the shape and dtype of their argument', () => {
    const f = tensor([1.5, 2, 3, 4, 5, 6], [2, 3]);
    const i = tensor([1, 2, 3], [3], { dtype: 'int32' });
    expect([zerosLike(f).shape, values(zerosLike(f))]).toEqual([
      [2, 3],
      [0, 0, 0, 0, 0, 0],
    ]);
    expect([onesLike(i).shape, onesLike(i).dtype, values(onesLike(i))]).toEqual([
      [3],
      'int32',
      [1, 1, 1],
    ]);
    expect(values(fullLike(f, -2.5))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5, -2.5]);
    // An int32 tensor filled with a fraction truncates, as torch.full_like does.
    expect(values(fullLike(i, 7.9))).toEqual([7, 7, 7]);
  });
});

describe('cat', () => {
  it('is concat (torch.cat): joins along a dim', () => {
    const a = tensor([1, 2, 3, 4], [2, 2]);
    const b = tensor([5, 6], [2, 1]);
    expect(cat).toBe(concat);
    const y = cat([a, b], 1);
    expect([y.shape, values(y)]).toEqual([
      [2, 3],
      [1, 2, 5, 3, 4, 6],
    ]);
    expect(() => cat([a, tensor([1, 2, 3], [3, 1])], 1)).toThrow(
      /concat: tensor 1 \[3, 1\] does not match tensor 0 \[2, 2\] outside dim 1/,
    );
  });
});

describe('sumTo', () => {
  it('sums a broadcast gradient back over added leading dims and size-1 dims', () => {
    const g = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    // [2, 2, 3] -> [2, 1]: sum over the leading dim and the last.
    const y = sumTo(g, [2, 1]);
    expect([y.shape, values(y)]).toEqual([
      [2, 1],
      [1 + 2 + 3 + 7 + 8 + 9, 4 + 5 + 6 + 10 + 11 + 12],
    ]);
    const z = sumTo(g, [3]);
    expect(values(z)).toEqual([1 + 4 + 7 + 10, 2 + 5 + 8 + 11, 3 + 6 + 9 + 12]);
    expect(sumTo(g, [2, 2, 3])).toBe(g);
  });
});

describe('batchMatMul', () => {
  const a = tensor([1, 2, 3, 4, 5, 6, 1, 0, 0, 1, 1, 1], [2, 2, 3]);
  const b = tensor([1, 0, 0, 1, 1, 1, 2, 1, 0, 3, 1, 1], [2, 3, 2]);

  it('multiplies each batch, with either side transposed', () => {
    // Batch 0: [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]]; batch 1: [[1,0,0],[1,1,1]] x [[2,1],[0,3],[1,1]].
    expect(values(batchMatMul(a, b))).toEqual([4, 5, 10, 11, 2, 1, 3, 5]);
    const bT = tensor([1, 0, 1, 0, 1, 1, 2, 0, 1, 1, 3, 1], [2, 2, 3]);
    expect(values(batchMatMul(a, bT, false, true))).toEqual([4, 5, 10, 11, 2, 1, 3, 5]);
    const aT = tensor([1, 4, 2, 5, 3, 6, 1, 1, 0, 1, 0, 1], [2, 3, 2]);
    expect(values(batchMatMul(aT, b, true, false))).toEqual([4, 5, 10, 11, 2, 1, 3, 5]);
    expect(() => batchMatMul(a, a)).toThrow(/matmul: \[2, 2, 3\] and \[2, 2, 3\] do not fit/);
  });

  it('has the gradients of finite differences in all four cases', async () => {
    for (const [tA, tB, sa, sb] of [
      [false, false, [2, 2, 3], [2, 3, 4]],
      [true, false, [2, 3, 2], [2, 3, 4]],
      [false, true, [2, 2, 3], [2, 4, 3]],
      [true, true, [2, 3, 2], [2, 4, 3]],
    ] as const) {
      await gradcheck(
        (x, y) => batchMatMul(x, y, tA, tB),
        [inputs([...sa], 1), inputs([...sb], 2)],
      );
    }
  });
});

describe('gradients of narrow, squeeze, unsqueeze, cast', () => {
  it('narrow', async () => {
    await gradcheck((x) => narrow(x, 1, 1, 2), [inputs([2, 4, 3])]);
    await gradcheck((x) => narrow(x, -1, 0, 1), [inputs([3, 2])]);
  });
  it('squeeze and unsqueeze', async () => {
    await gradcheck((x) => squeeze(x), [inputs([2, 1, 3, 1])]);
    await gradcheck((x) => squeeze(x, 1), [inputs([2, 1, 3])]);
    await gradcheck((x) => unsqueeze(x, 0).mul(unsqueeze(x, 1)), [inputs([3])]);
  });
  it('cast to float32 passes the gradient; to int32 it stops it', async () => {
    await gradcheck((x) => cast(x, 'float32').mul(x), [inputs([2, 3])]);
    const x = inputs([3]);
    const y = sum(cast(cast(x, 'int32'), 'float32').add(x));
    y.backward();
    // Only the float path carries a gradient: d/dx (trunc(x) + x) taken as 1.
    expect(values(x.grad as Tensor)).toEqual([1, 1, 1]);
  });
});
