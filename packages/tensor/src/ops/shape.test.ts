import { describe, expect, it } from 'vitest';
import {
  arange,
  broadcastTo,
  cast,
  concat,
  flatten,
  flip,
  narrow,
  pad,
  permute,
  reshape,
  slice,
  split,
  squeeze,
  tensor,
  transpose,
  unsqueeze,
} from '../index.js';

const grid = () => reshape(arange(6).cast('float32'), [2, 3]);

describe('shape ops', () => {
  it('reshape infers one -1 and shares the buffer', () => {
    const x = grid();
    const y = reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.dataId).toBe(x.dataId);
  });

  it('flatten, squeeze and unsqueeze follow PyTorch', () => {
    const x = reshape(arange(24).cast('float32'), [2, 3, 4]);
    expect(flatten(x).shape).toEqual([24]);
    expect(flatten(x, 1).shape).toEqual([2, 12]);
    expect(unsqueeze(x, 1).shape).toEqual([2, 1, 3, 4]);
    expect(squeeze(unsqueeze(x, -1)).shape).toEqual([2, 3, 4]);
  });

  it('transpose swaps two dims; permute reorders all', () => {
    expect([...transpose(grid(), 0, 1).dataSync()]).toEqual([0, 3, 1, 4, 2, 5]);
    const x = reshape(arange(24).cast('float32'), [2, 3, 4]);
    const y = permute(x, [2, 0, 1]);
    expect(y.shape).toEqual([4, 2, 3]);
    // y[k, i, j] = x[i, j, k] = 12 i + 4 j + k
    expect(y.dataSync()[(3 * 2 + 1) * 3 + 2]).toBe(12 + 8 + 3);
  });

  it('broadcastTo repeats size-1 dims', () => {
    expect([...broadcastTo(tensor([[1], [2]]), [2, 3]).dataSync()]).toEqual([1, 1, 1, 2, 2, 2]);
  });

  it('cast truncates toward zero', () => {
    expect([...cast(tensor([2.7, -2.7]), 'int32').dataSync()]).toEqual([2, -2]);
  });
});

describe('slice, concat, split, pad', () => {
  it('slice takes a box; -1 sizes run to the end', () => {
    expect([...slice(grid(), [0, 1], [2, -1]).dataSync()]).toEqual([1, 2, 4, 5]);
    expect([...narrow(grid(), 1, 2, 1).dataSync()]).toEqual([2, 5]);
  });

  it('concat joins along a dim', () => {
    const y = concat([grid(), tensor([[9, 9, 9]])], 0);
    expect(y.shape).toEqual([3, 3]);
    expect([...y.dataSync()].slice(6)).toEqual([9, 9, 9]);
    expect([...concat([grid(), tensor([[7], [8]])], 1).dataSync()]).toEqual([
      0, 1, 2, 7, 3, 4, 5, 8,
    ]);
  });

  it('split by chunk size (last smaller) and by sections, like torch.split', () => {
    const x = arange(5).cast('float32');
    expect(split(x, 2).map((t) => [...t.dataSync()])).toEqual([[0, 1], [2, 3], [4]]);
    expect(split(x, [1, 4]).map((t) => t.shape[0])).toEqual([1, 4]);
  });

  it('pad lists pairs from the last dim, like F.pad', () => {
    const y = pad(tensor([[1, 2]]), [1, 0, 0, 1], -1);
    expect(y.shape).toEqual([2, 3]);
    expect([...y.dataSync()]).toEqual([-1, 1, 2, -1, -1, -1]);
  });

  it('flip reverses the listed dims, like torch.flip; dims of size 1 and [] change nothing', () => {
    expect([...flip(grid(), 1).dataSync()]).toEqual([2, 1, 0, 5, 4, 3]);
    expect([...flip(grid(), [0, 1]).dataSync()]).toEqual([5, 4, 3, 2, 1, 0]);
    expect([...grid().flip(-2).dataSync()]).toEqual([3, 4, 5, 0, 1, 2]);
    const cube = reshape(arange(8).cast('int32'), [2, 1, 4]);
    expect(flip(cube, [2]).dtype).toBe('int32');
    expect([...flip(cube, [1, 2]).dataSync()]).toEqual([3, 2, 1, 0, 7, 6, 5, 4]);
    expect([...flip(cube, 1).dataSync()]).toEqual([...cube.dataSync()]);
    expect([...flip(cube, []).dataSync()]).toEqual([...cube.dataSync()]);
  });

  it('errors name the op and the shapes', () => {
    expect(() => reshape(grid(), [4, 2])).toThrow(
      'reshape: cannot reshape [2, 3] (6 elements) into [4, 2]',
    );
    expect(() => slice(grid(), [1, 2], [2, 1])).toThrow(
      'slice: begin [1, 2] with size [2, 1] does not fit in [2, 3] (dim 0)',
    );
    expect(() => concat([grid(), tensor([[1, 2]])], 0)).toThrow(
      'concat: tensor 1 [1, 2] does not match tensor 0 [2, 3] outside dim 0',
    );
    expect(() => split(arange(5).cast('float32'), [2, 2])).toThrow(
      'split: sections [2, 2] must add up to dim 0 of [5] (5)',
    );
    expect(() => flip(grid(), [1, -1])).toThrow('flip: dim [1, 1] names a dimension twice');
    expect(() => flip(grid(), 2)).toThrow('flip: dim 2 is out of range for a tensor of rank 2');
    expect(() => permute(grid(), [0, 0])).toThrow('permute: dims [0, 0] are not a permutation');
    expect(() => broadcastTo(grid(), [3, 3])).toThrow(
      'broadcastTo: shapes [2, 3] and [3, 3] cannot be broadcast together',
    );
  });
});
