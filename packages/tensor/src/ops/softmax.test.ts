import { describe, expect, it } from 'vitest';
import {
  crossEntropy,
  dropout,
  Generator,
  logSoftmax,
  oneHot,
  ones,
  randn,
  softmax,
  sum,
  tensor,
} from '../index.js';
import { assertClose } from '../testing.js';

const labels = (values: number[]) => tensor(values, [values.length], { dtype: 'int32' });

describe('softmax and logSoftmax', () => {
  it('softmax([1, 2, 3]) has the known values and rows sum to 1', () => {
    assertClose(softmax(tensor([1, 2, 3])).dataSync(), [0.09003057, 0.24472847, 0.66524096], {
      atol: 1e-7,
    });
    const rows = softmax(randn([4, 10], { generator: new Generator(1) }).mul(5), 1);
    assertClose(sum(rows, 1).dataSync(), [1, 1, 1, 1], { atol: 1e-6 });
  });

  it('is stable for large logits', () => {
    assertClose(logSoftmax(tensor([1000, 0])).dataSync(), [0, -1000], { atol: 1e-4 });
    assertClose(softmax(tensor([1000, 1000])).dataSync(), [0.5, 0.5]);
  });
});

describe('crossEntropy (PyTorch cross_entropy)', () => {
  const logits = () =>
    tensor([
      [2, 1, 0.1],
      [0.5, 2.5, -1],
    ]);
  const nll = (row: number[], c: number) =>
    Math.log(row.reduce((a, v) => a + Math.exp(v), 0)) - row[c];

  it('is the mean negative log-likelihood of the labels', () => {
    const expected = (nll([2, 1, 0.1], 0) + nll([0.5, 2.5, -1], 2)) / 2;
    expect(crossEntropy(logits(), labels([0, 2])).dataSync()[0]).toBeCloseTo(expected, 6);
    assertClose(
      crossEntropy(logits(), labels([0, 2]), { reduction: 'none' }).dataSync(),
      [nll([2, 1, 0.1], 0), nll([0.5, 2.5, -1], 2)],
      { atol: 1e-6 },
    );
    expect(crossEntropy(logits(), labels([0, 2]), { reduction: 'sum' }).dataSync()[0]).toBeCloseTo(
      2 * expected,
      5,
    );
  });

  it('label smoothing e gives (1 - e) nll + e * mean over classes of -log p', () => {
    const row = [2, 1, 0.1];
    const e = 0.1;
    const meanNll = (nll(row, 0) + nll(row, 1) + nll(row, 2)) / 3;
    const expected = (1 - e) * nll(row, 0) + e * meanNll;
    expect(
      crossEntropy(tensor([row]), labels([0]), { labelSmoothing: e }).dataSync()[0],
    ).toBeCloseTo(expected, 6);
  });

  it('accepts class probabilities as the target', () => {
    const probabilities = tensor([
      [1, 0, 0],
      [0, 0, 1],
    ]);
    expect(crossEntropy(logits(), probabilities).dataSync()[0]).toBeCloseTo(
      crossEntropy(logits(), labels([0, 2])).dataSync()[0],
      6,
    );
  });

  it('oneHot places a 1 at each index and refuses indices out of range', () => {
    expect([...oneHot(labels([2, 0]), 3).dataSync()]).toEqual([0, 0, 1, 1, 0, 0]);
    expect(() => oneHot(labels([3]), 3)).toThrow(
      'oneHot: class index 3 at position 0 is outside [0, 3)',
    );
  });

  it('errors name the shapes', () => {
    expect(() => crossEntropy(logits(), labels([0, 1, 2]))).toThrow(
      'crossEntropy: class indices must be [2] for logits [2, 3], got [3]',
    );
    expect(() => crossEntropy(tensor([1, 2]), labels([0]))).toThrow(
      'crossEntropy: logits must be [N, C], got [2]',
    );
  });
});

describe('dropout', () => {
  it('zeroes about p of the elements and scales the rest by 1 / (1 - p)', () => {
    const y = dropout(ones([100, 100]), { p: 0.3, generator: new Generator(5) }).dataSync();
    const zeros = y.filter((v) => v === 0).length;
    expect(zeros / y.length).toBeGreaterThan(0.28);
    expect(zeros / y.length).toBeLessThan(0.32);
    expect(y.every((v) => v === 0 || Math.abs(v - 1 / 0.7) < 1e-6)).toBe(true);
  });

  it('the same seed gives the same mask; evaluation is the identity', () => {
    const x = ones([64]);
    const a = dropout(x, { generator: new Generator(9) }).dataSync();
    const b = dropout(x, { generator: new Generator(9) }).dataSync();
    expect([...a]).toEqual([...b]);
    expect(dropout(x, { training: false })).toBe(x);
  });
});
