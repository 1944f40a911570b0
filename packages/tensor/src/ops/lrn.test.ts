import { describe, expect, it } from 'vitest';
import { Generator, localResponseNorm, randn, tensor } from '../index.js';
import { assertClose } from '../testing.js';

describe('localResponseNorm (PyTorch semantics)', () => {
  it('uses the window c - floor(n/2) .. c + floor((n-1)/2), clipped at the channel edges, and alpha / n', () => {
    // size 2: channel c sums x[c-1]^2 + x[c]^2; s = 1 + 0.1 / 2 * sum.
    const y = localResponseNorm(tensor([1, 2, 3], [1, 3, 1, 1]), {
      size: 2,
      alpha: 0.1,
      beta: 1,
      k: 1,
    });
    assertClose(y.dataSync(), [1 / 1.05, 2 / 1.25, 3 / 1.65], { atol: 1e-6 });
  });

  it("equals the paper's formula (section 3.3: k 2, n 5, alpha 1e-4 undivided, beta 0.75) with alpha = 5e-4", () => {
    const x = randn([2, 7, 3, 2], { generator: new Generator(3) }).mul(10);
    const values = x.dataSync();
    const [batch, channels, height, width] = x.shape;
    const plane = height * width;
    const expected = new Float64Array(values.length);
    for (let n = 0; n < batch; n++) {
      for (let c = 0; c < channels; c++) {
        for (let p = 0; p < plane; p++) {
          let acc = 0;
          for (let j = Math.max(0, c - 2); j <= Math.min(channels - 1, c + 2); j++)
            acc += values[(n * channels + j) * plane + p] ** 2;
          const i = (n * channels + c) * plane + p;
          expected[i] = values[i] / (2 + 1e-4 * acc) ** 0.75;
        }
      }
    }
    const y = localResponseNorm(x, { size: 5, alpha: 5e-4, beta: 0.75, k: 2 });
    assertClose(y.dataSync(), expected, { atol: 1e-6, rtol: 1e-5 });
  });

  it('refuses a non-NCHW input', () => {
    expect(() => localResponseNorm(tensor([1, 2]), { size: 5 })).toThrow(
      'localResponseNorm: input must be [N, C, H, W], got [2]',
    );
  });
});

describe('defaults', () => {
  it("default alpha, beta and k are PyTorch's: 1e-4, 0.75, 1", () => {
    const y = localResponseNorm(tensor([10], [1, 1, 1, 1]), { size: 1 });
    expect(y.dataSync()[0]).toBeCloseTo(10 / (1 + 1e-4 * 100) ** 0.75, 6);
  });
});
