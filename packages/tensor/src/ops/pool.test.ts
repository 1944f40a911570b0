import { describe, expect, it } from 'vitest';
import { adaptiveAvgPool2d, arange, avgPool2d, maxPool2d, ones, reshape } from '../index.js';
import { assertClose } from '../testing.js';

const ramp = (h: number, w: number) => reshape(arange(h * w).cast('float32'), [1, 1, h, w]);

describe('maxPool2d', () => {
  it('overlapping 3x3 windows with stride 2 (AlexNet) on a 5x5 ramp', () => {
    const y = maxPool2d(ramp(5, 5), { kernelSize: 3, stride: 2 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect([...y.dataSync()]).toEqual([12, 14, 22, 24]);
  });

  it("AlexNet's pools: 55 -> 27, 27 -> 13, 13 -> 6", () => {
    for (const [input, output] of [
      [55, 27],
      [27, 13],
      [13, 6],
    ]) {
      expect(maxPool2d(ones([1, 1, input, input]), { kernelSize: 3, stride: 2 }).shape).toEqual([
        1,
        1,
        output,
        output,
      ]);
    }
  });

  it('pads with -infinity and supports ceil mode (PyTorch output-size rule)', () => {
    const y = maxPool2d(ramp(4, 4).neg(), { kernelSize: 2, stride: 2, padding: 1 });
    expect([...y.dataSync()]).toEqual([-0, -1, -3, -4, -5, -7, -12, -13, -15]);
    expect(maxPool2d(ramp(5, 5), { kernelSize: 2, stride: 2, ceilMode: true }).shape).toEqual([
      1, 1, 3, 3,
    ]);
  });
});

describe('avgPool2d', () => {
  it('counts padding in the divisor by default, not with countIncludePad: false', () => {
    const x = ones([1, 1, 4, 4]);
    const included = avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1 });
    assertClose(included.dataSync(), [4 / 9, 6 / 9, 6 / 9, 9 / 9], { atol: 1e-6 });
    const excluded = avgPool2d(x, { kernelSize: 3, stride: 2, padding: 1, countIncludePad: false });
    assertClose(excluded.dataSync(), [1, 1, 1, 1], { atol: 1e-6 });
  });

  it('ceil mode: the last window holds only the last row/column and divides by what is inside', () => {
    const y = avgPool2d(ramp(5, 5), { kernelSize: 2, stride: 2, ceilMode: true });
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect(y.dataSync()[8]).toBe(24);
    expect(y.dataSync()[0]).toBe((0 + 1 + 5 + 6) / 4);
  });

  it('divisorOverride replaces the divisor', () => {
    expect(avgPool2d(ones([1, 1, 2, 2]), { kernelSize: 2, divisorOverride: 2 }).dataSync()[0]).toBe(
      2,
    );
  });
});

describe('adaptiveAvgPool2d', () => {
  it('uses windows floor(i*H/out)..ceil((i+1)*H/out): 5x5 -> 2x2 overlaps at row/column 2', () => {
    expect([...adaptiveAvgPool2d(ramp(5, 5), 2).dataSync()]).toEqual([6, 8, 16, 18]);
  });

  it('is the identity when output size equals input size, and 13 -> 6 as torchvision AlexNet', () => {
    assertClose(adaptiveAvgPool2d(ramp(3, 4), [3, 4]).dataSync(), ramp(3, 4).dataSync());
    expect(adaptiveAvgPool2d(ones([1, 256, 13, 13]), 6).shape).toEqual([1, 256, 6, 6]);
  });
});

describe('pooling errors', () => {
  it('name the op, the argument and the shape', () => {
    expect(() => maxPool2d(ones([1, 1, 4, 4]), { kernelSize: 2, padding: 2 })).toThrow(
      'maxPool2d: padding 2x2 must be at most half the kernel size 2x2',
    );
    expect(() => avgPool2d(ones([4, 4]), { kernelSize: 2 })).toThrow(
      'avgPool2d: input must be [N, C, H, W], got [4, 4]',
    );
    expect(() => maxPool2d(ones([1, 1, 2, 2]), { kernelSize: 3 })).toThrow(
      'maxPool2d: window 3x3 does not fit in input [1, 1, 2, 2] with padding 0x0',
    );
  });
});
