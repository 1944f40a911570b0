import { concat, conv2d, Generator, noGrad, ShapeError, split, tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d.js';

describe('Conv2d', () => {
  it('computes a 2x2 cross-correlation with bias, stride and padding by hand', () => {
    const conv = new Conv2d(1, 1, 2, { stride: 2, padding: 1 });
    noGrad(() => {
      conv.weight.assign(
        tensor([
          [
            [
              [1, 2],
              [3, 4],
            ],
          ],
        ]),
      );
      conv.bias!.assign(tensor([0.5]));
    });
    // x = 1..9 in a 3x3; padded to 5x5, windows at (0,0), (0,2), (2,0), (2,2) of the padded grid.
    const x = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    const y = noGrad(() => conv.forward(x));
    expect(y.shape).toEqual([1, 1, 2, 2]);
    // Top-left window sees only x[0][0] = 1 under weight 4; top-right sees x[0][1..2] = 2, 3 under 3, 4...
    const expected = [4 * 1, 3 * 2 + 4 * 3, 2 * 4 + 4 * 7, 1 * 5 + 2 * 6 + 3 * 8 + 4 * 9].map(
      (v) => v + 0.5,
    );
    assertClose(y.dataSync(), expected);
  });

  it('groups=2 matches two separate convolutions on the channel halves', () => {
    const g = new Generator(3);
    const conv = new Conv2d(4, 6, 3, { groups: 2, padding: 1, generator: g });
    expect(conv.weight.shape).toEqual([6, 2, 3, 3]);
    const x = tensor(
      Array.from({ length: 2 * 4 * 5 * 5 }, () => g.normal()),
      [2, 4, 5, 5],
    );
    const y = noGrad(() => conv.forward(x));
    const [xa, xb] = split(x, 2, 1);
    const [wa, wb] = split(conv.weight, 3, 0);
    const [ba, bb] = split(conv.bias!, 3, 0);
    const separate = concat(
      [conv2d(xa, wa, { bias: ba, padding: 1 }), conv2d(xb, wb, { bias: bb, padding: 1 })],
      1,
    );
    assertClose(y.dataSync(), separate.dataSync(), { atol: 1e-6 });
  });

  it('initializes weight and bias in U(-1/sqrt(fanIn), 1/sqrt(fanIn)) as PyTorch, reproducibly from a seed', () => {
    const a = new Conv2d(3, 8, 5, { generator: new Generator(7) });
    const b = new Conv2d(3, 8, 5, { generator: new Generator(7) });
    const bound = 1 / Math.sqrt(3 * 5 * 5);
    const w = a.weight.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(bound);
    // 600 uniform draws span nearly the whole interval.
    expect(Math.max(...w)).toBeGreaterThan(0.95 * bound);
    expect(Math.min(...w)).toBeLessThan(-0.95 * bound);
    expect(Math.max(...a.bias!.dataSync().map(Math.abs))).toBeLessThanOrEqual(bound);
    expect([...b.weight.dataSync()]).toEqual([...w]);
  });

  it('has no bias parameter with bias: false', () => {
    const conv = new Conv2d(2, 2, 1, { bias: false });
    expect(conv.bias).toBeNull();
    expect(conv.namedParameters().map(([k]) => k)).toEqual(['weight']);
  });

  it('refuses groups that do not divide the channels with a ShapeError naming both', () => {
    const build = () => new Conv2d(3, 6, 3, { groups: 2 });
    expect(build).toThrow(ShapeError);
    expect(build).toThrow('Conv2d: groups=2 must divide inChannels=3 and outChannels=6');
  });
});
