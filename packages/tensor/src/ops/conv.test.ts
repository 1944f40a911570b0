import { describe, expect, it } from 'vitest';
import {
  add,
  arange,
  concat,
  conv2d,
  conv2dAttrs,
  Generator,
  mul,
  ones,
  randn,
  relu,
  reshape,
  slice,
  sum,
  type Tensor,
  tensor,
} from '../index.js';
import { assertClose } from '../testing.js';

const image3x3 = () => reshape(arange(1, 10).cast('float32'), [1, 1, 3, 3]);

describe('conv2d (PyTorch conv2d semantics)', () => {
  it('cross-correlates: a [[1, 0], [0, -1]] kernel gives x[i, j] - x[i+1, j+1]', () => {
    const y = conv2d(
      image3x3(),
      tensor([
        [
          [
            [1, 0],
            [0, -1],
          ],
        ],
      ]),
    );
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect([...y.dataSync()]).toEqual([-4, -4, -4, -4]);
  });

  it('pads with zeros and strides: padding 1, stride 2', () => {
    const y = conv2d(
      image3x3(),
      tensor([
        [
          [
            [1, 0],
            [0, -1],
          ],
        ],
      ]),
      { padding: 1, stride: 2 },
    );
    // Windows start at -1 and 1: (-1,-1): 0 - x00; (-1,1): 0 - x02; (1,-1): 0 - x20; (1,1): x11 - x22.
    expect([...y.dataSync()]).toEqual([-1, -3, -7, -4]);
  });

  it('dilation 2 spreads a 2x2 kernel over the corners of a 3x3 image', () => {
    expect([...conv2d(image3x3(), ones([1, 1, 2, 2]), { dilation: 2 }).dataSync()]).toEqual([
      1 + 3 + 7 + 9,
    ]);
  });

  it('adds the bias per output channel', () => {
    const y = conv2d(image3x3(), ones([2, 1, 3, 3]), { bias: tensor([0, 100]) });
    expect([...y.dataSync()]).toEqual([45, 145]);
  });

  it('groups=2 matches two separate convolutions on the channel halves', () => {
    const generator = new Generator(7);
    const x = randn([2, 4, 7, 6], { generator });
    const w = randn([6, 2, 3, 3], { generator });
    const grouped = conv2d(x, w, { groups: 2, padding: 1, stride: [2, 1] });
    const halves = concat(
      [
        conv2d(slice(x, [0, 0], [-1, 2]), slice(w, [0], [3]), { padding: 1, stride: [2, 1] }),
        conv2d(slice(x, [0, 2], [-1, 2]), slice(w, [3], [3]), { padding: 1, stride: [2, 1] }),
      ],
      1,
    );
    expect(grouped.shape).toEqual([2, 6, 4, 6]);
    assertClose(grouped.dataSync(), halves.dataSync(), { atol: 1e-6 });
  });

  it("padding 'same' keeps the size, with PyTorch's extra row at the bottom for even kernels", () => {
    const a = conv2dAttrs([1, 1, 5, 5], [1, 1, 4, 4], { padding: 'same' });
    expect([a.outHeight, a.outWidth, a.padTop, a.padLeft]).toEqual([5, 5, 1, 1]);
  });

  it("gives AlexNet's conv output sizes: 227 -> 55 (11x11/4), 27 -> 27 (5x5 pad 2, groups 2)", () => {
    const conv1 = conv2dAttrs([1, 3, 227, 227], [96, 3, 11, 11], { stride: 4 });
    expect([conv1.outChannels, conv1.outHeight, conv1.outWidth]).toEqual([96, 55, 55]);
    const conv2 = conv2dAttrs([1, 96, 27, 27], [256, 48, 5, 5], { padding: 2, groups: 2 });
    expect([conv2.outHeight, conv2.outWidth]).toEqual([27, 27]);
  });

  it('takes unbatched CHW input like PyTorch', () => {
    expect(conv2d(reshape(image3x3(), [1, 3, 3]), ones([2, 1, 2, 2])).shape).toEqual([2, 2, 2]);
  });

  it("activation 'relu' equals relu(conv2d(x, w) + bias) composed of separate ops, with the same gradients", () => {
    const generator = new Generator(5);
    const [x, w, b] = [[2, 4, 7, 6], [6, 2, 3, 3], [6]].map((shape) => randn(shape, { generator }));
    for (const t of [x, w, b]) t.requiresGrad = true;
    const gradients = (y: Tensor) => {
      for (const t of [x, w, b]) t.grad = null;
      sum(mul(y, randn(y.shape, { generator: new Generator(9) }))).backward();
      return [y, ...[x, w, b].map((t) => t.grad as Tensor)];
    };
    const fused = gradients(conv2d(x, w, { bias: b, padding: 1, groups: 2, activation: 'relu' }));
    const composed = gradients(
      relu(add(conv2d(x, w, { padding: 1, groups: 2 }), reshape(b, [1, 6, 1, 1]))),
    );
    // About half the outputs are negative: the ReLU is doing something.
    const zeros = [...fused[0].dataSync()].filter((v) => v === 0).length;
    expect(zeros).toBeGreaterThan(fused[0].size / 4);
    fused.forEach((t, k) => {
      assertClose(t.dataSync(), composed[k].dataSync(), { atol: 1e-5, rtol: 1e-5 }, `output ${k}`);
    });
  });

  it('errors name the argument and the shapes', () => {
    expect(() =>
      conv2d(randn([1, 2, 5, 5]), randn([3, 2, 3, 3]), { activation: 'gelu' as 'relu' }),
    ).toThrow("conv2d: activation must be one of 'linear', 'relu', got 'gelu'");
    expect(() => conv2d(randn([1, 2, 5, 5]), randn([3, 2, 3, 3]), { bias: randn([2]) })).toThrow(
      'conv2d: bias [2] does not match the 3 output channels',
    );
    expect(() => conv2d(randn([1, 48, 5, 5]), randn([128, 48, 5, 5]), { groups: 2 })).toThrow(
      'conv2d: input has 48 channels but weight [128, 48, 5, 5] with groups=2 expects 96',
    );
    expect(() => conv2d(randn([1, 6, 5, 5]), randn([4, 2, 3, 3]), { groups: 4 })).toThrow(
      "conv2d: groups=4 does not divide the input's 6 channels (input [1, 6, 5, 5])",
    );
    expect(() => conv2d(randn([1, 1, 3, 3]), randn([1, 1, 5, 5]))).toThrow(
      'conv2d: kernel 5x5 (dilation 1x1) is larger than the padded input 3x3 (input [1, 1, 3, 3])',
    );
    expect(() => conv2d(randn([3, 3]), randn([1, 1, 1, 1]))).toThrow(
      'conv2d: input must be [N, C, H, W], got [3, 3]',
    );
  });
});
