import { describe, expect, it } from 'vitest';
import { argmax, max, mean, min, sum, tensor } from '../index.js';

const x = () =>
  tensor([
    [1, 5, 3],
    [4, 2, 6],
  ]);

describe('reductions', () => {
  it('sum over all, one and several dims, with keepdim', () => {
    expect(sum(x()).shape).toEqual([]);
    expect(sum(x()).dataSync()[0]).toBe(21);
    expect([...sum(x(), 0).dataSync()]).toEqual([5, 7, 9]);
    expect([...sum(x(), -1).dataSync()]).toEqual([9, 12]);
    expect(sum(x(), 1, true).shape).toEqual([2, 1]);
    expect(sum(x(), [0, 1], true).shape).toEqual([1, 1]);
  });

  it('sum over the middle dim of a rank-3 tensor', () => {
    const t = tensor([
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      [
        [7, 8],
        [9, 10],
        [11, 12],
      ],
    ]);
    expect([...sum(t, 1).dataSync()]).toEqual([9, 12, 27, 30]);
  });

  it('mean, max and min', () => {
    expect([...mean(x(), 1).dataSync()]).toEqual([3, 4]);
    expect([...max(x(), 0).dataSync()]).toEqual([4, 5, 6]);
    expect([...min(x(), 1).dataSync()]).toEqual([1, 2]);
    expect(max(x()).dataSync()[0]).toBe(6);
  });

  it('argmax returns int32 indices of the first maximum, flattened when no dim is given', () => {
    const t = tensor([
      [1, 7, 7],
      [9, 0, 9],
    ]);
    const i = argmax(t, 1);
    expect(i.dtype).toBe('int32');
    expect([...i.dataSync()]).toEqual([1, 0]);
    expect(argmax(t).dataSync()[0]).toBe(3);
    expect(argmax(t, 0, true).shape).toEqual([1, 3]);
  });

  it('max propagates NaN, as PyTorch does', () => {
    expect(Number.isNaN(max(tensor([1, Number.NaN, 3])).dataSync()[0])).toBe(true);
  });

  it('a bad dim names the op, the dim and the rank', () => {
    expect(() => sum(x(), 2)).toThrow('sum: dim 2 is out of range for a tensor of rank 2');
    expect(() => mean(x(), [0, -2])).toThrow('mean: dim [0, 0] names a dimension twice');
  });
});
