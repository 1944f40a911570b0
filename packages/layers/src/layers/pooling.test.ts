import { arange, noGrad, reshape } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { AdaptiveAvgPool2d, AvgPool2d, MaxPool2d } from './pooling.js';

// x[0][0] = [[0..4], [5..9], ..., [20..24]]: the max of a window is its bottom-right element.
const grid = () => reshape(arange(0, 25, 1, { dtype: 'float32' }), [1, 1, 5, 5]);

describe('pooling layers', () => {
  it('MaxPool2d(3, stride 2) pools overlapping windows as AlexNet does: 5x5 -> 2x2', () => {
    const y = noGrad(() => new MaxPool2d(3, { stride: 2 }).forward(grid()));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    // Windows start at rows/cols 0 and 2 and share row/col 2.
    assertClose(y.dataSync(), [12, 14, 22, 24]);
  });

  it('MaxPool2d stride defaults to the kernel size', () => {
    const y = noGrad(() => new MaxPool2d(2).forward(grid()));
    assertClose(y.dataSync(), [6, 8, 16, 18]);
  });

  it('AvgPool2d(3, stride 2) averages each 3x3 window', () => {
    const y = noGrad(() => new AvgPool2d(3, { stride: 2 }).forward(grid()));
    // The mean of a 3x3 window of this grid is its centre.
    assertClose(y.dataSync(), [6, 8, 16, 18]);
  });

  it('AvgPool2d with padding counts the padded zeros, as PyTorch by default', () => {
    const y = noGrad(() => new AvgPool2d(2, { stride: 2, padding: 1 }).forward(grid()));
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(y.dataSync()[0]).toBeCloseTo(0 / 4, 6);
    expect(y.dataSync()[1]).toBeCloseTo((1 + 2) / 4, 6);
    expect(y.dataSync()[4]).toBeCloseTo((6 + 7 + 11 + 12) / 4, 6);
  });

  it('AdaptiveAvgPool2d(2) on 5x5 averages the overlapping ranges floor(i*5/2)..ceil((i+1)*5/2)', () => {
    const y = noGrad(() => new AdaptiveAvgPool2d(2).forward(grid()));
    // Rows and columns 0..2 and 2..4 (3 each).
    const mean = (r: number, c: number) => {
      let s = 0;
      for (let i = r; i < r + 3; i++) for (let j = c; j < c + 3; j++) s += i * 5 + j;
      return s / 9;
    };
    assertClose(y.dataSync(), [mean(0, 0), mean(0, 2), mean(2, 0), mean(2, 2)]);
  });
});
