import { noGrad, tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, it } from 'vitest';
import { LocalResponseNorm } from './local-response-norm.js';

/** PyTorch's formula: b[c] = a[c] / (k + alpha / n * sum_{j = c - n/2 .. c + (n-1)/2} a[j]^2) ^ beta. */
function byHand(a: number[], n: number, alpha: number, beta: number, k: number): number[] {
  return a.map((ac, c) => {
    let s = 0;
    for (let j = c - Math.floor(n / 2); j <= c + Math.floor((n - 1) / 2); j++)
      if (j >= 0 && j < a.length) s += a[j] ** 2;
    return ac / (k + (alpha / n) * s) ** beta;
  });
}

describe('LocalResponseNorm', () => {
  it('normalizes across 5 channels with the window clipped at the channel edges', () => {
    const a = [1, 2, 3, 4, 5, 6];
    const x = tensor(a, [1, 6, 1, 1]);
    const y = noGrad(() => new LocalResponseNorm(5, { alpha: 0.5, beta: 0.75, k: 2 }).forward(x));
    const expected = byHand(a, 5, 0.5, 0.75, 2);
    // Channel 0 sums a[0..2] only: 1 / (2 + 0.1 * 14) ^ 0.75.
    assertClose([expected[0]], [1 / (2 + 0.1 * 14) ** 0.75], { atol: 1e-12 });
    // Channel 5 sums a[3..5]: 6 / (2 + 0.1 * 77) ^ 0.75.
    assertClose([expected[5]], [6 / (2 + 0.1 * 77) ** 0.75], { atol: 1e-12 });
    assertClose(y.dataSync(), expected, { atol: 1e-6 });
  });

  it("with alpha 5e-4 equals the paper's formula (alpha 1e-4 not divided by n, k 2, n 5)", () => {
    const a = [10, -20, 30, 40, -50, 60, 70];
    const x = tensor(a, [1, 7, 1, 1]);
    const y = noGrad(() => new LocalResponseNorm(5, { alpha: 5e-4, k: 2 }).forward(x));
    const paper = a.map((ac, c) => {
      let s = 0;
      for (let j = Math.max(0, c - 2); j <= Math.min(6, c + 2); j++) s += a[j] ** 2;
      return ac / (2 + 1e-4 * s) ** 0.75;
    });
    assertClose(y.dataSync(), paper, { atol: 1e-5 });
  });

  it('uses an even window as PyTorch: size 2 sums channels c-1 and c', () => {
    const a = [3, 1, 2];
    const y = noGrad(() =>
      new LocalResponseNorm(2, { alpha: 1, beta: 1, k: 1 }).forward(tensor(a, [1, 3, 1, 1])),
    );
    assertClose(y.dataSync(), [3 / (1 + 9 / 2), 1 / (1 + 10 / 2), 2 / (1 + 5 / 2)], { atol: 1e-6 });
  });
});
