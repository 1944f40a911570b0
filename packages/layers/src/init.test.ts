import { Generator } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import * as init from './init.js';

function stats(values: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let maxAbs = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i];
    s2 += values[i] ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  }
  const mean = s / values.length;
  return { mean, std: Math.sqrt(s2 / values.length - mean ** 2), maxAbs };
}

describe('init', () => {
  it("calculateGain returns PyTorch's gains", () => {
    expect(init.calculateGain('linear')).toBe(1);
    expect(init.calculateGain('conv2d')).toBe(1);
    expect(init.calculateGain('sigmoid')).toBe(1);
    expect(init.calculateGain('tanh')).toBeCloseTo(5 / 3, 15);
    expect(init.calculateGain('relu')).toBeCloseTo(Math.SQRT2, 15);
    expect(init.calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.01 ** 2)), 15);
    expect(init.calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(init.calculateGain('selu')).toBe(0.75);
  });

  it('calculateFanInAndFanOut multiplies by the receptive field: [96, 3, 11, 11] -> 363 and 11616', () => {
    expect(init.calculateFanInAndFanOut([96, 3, 11, 11])).toEqual({ fanIn: 363, fanOut: 11616 });
    expect(init.calculateFanInAndFanOut([10, 20])).toEqual({ fanIn: 20, fanOut: 10 });
    expect(() => init.calculateFanInAndFanOut([5])).toThrow(
      'calculateFanInAndFanOut: needs at least 2 dimensions, got [5]',
    );
  });

  it('kaimingUniform stays within gain * sqrt(3 / fanIn) and has std gain / sqrt(fanIn)', () => {
    const t = init.kaimingUniform([64, 50], { nonlinearity: 'relu', generator: new Generator(0) });
    const { mean, std, maxAbs } = stats(t.dataSync());
    const expectedStd = Math.SQRT2 / Math.sqrt(50);
    expect(maxAbs).toBeLessThanOrEqual(Math.sqrt(3) * expectedStd);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeCloseTo(expectedStd, 2);
  });

  it('kaimingNormal with mode fanOut has std sqrt(2 / fanOut)', () => {
    const t = init.kaimingNormal([40, 10, 3, 3], {
      mode: 'fanOut',
      nonlinearity: 'relu',
      generator: new Generator(1),
    });
    expect(stats(t.dataSync()).std).toBeCloseTo(Math.sqrt(2 / 360), 2);
  });

  it('xavierUniform and xavierNormal follow sqrt(6 / (fanIn + fanOut)) and sqrt(2 / (fanIn + fanOut))', () => {
    const u = stats(
      init.xavierUniform([100, 50], { gain: 2, generator: new Generator(2) }).dataSync(),
    );
    expect(u.maxAbs).toBeLessThanOrEqual(2 * Math.sqrt(6 / 150));
    expect(u.std).toBeCloseTo(2 * Math.sqrt(2 / 150), 2);
    const n = stats(init.xavierNormal([100, 50], { generator: new Generator(3) }).dataSync());
    expect(n.std).toBeCloseTo(Math.sqrt(2 / 150), 2);
  });

  it("normal(0, 0.01), the paper's weight init, is seeded: the same generator state gives the same values", () => {
    const a = init.normal([1000], 0, 0.01, { generator: new Generator(42) }).dataSync();
    const b = init.normal([1000], 0, 0.01, { generator: new Generator(42) }).dataSync();
    expect([...a]).toEqual([...b]);
    expect(stats(a).std).toBeCloseTo(0.01, 3);
  });

  it('uniform, constant and zeros fill as asked', () => {
    const u = init.uniform([500], 2, 3, { generator: new Generator(4) }).dataSync();
    expect(Math.min(...u)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...u)).toBeLessThan(3);
    expect([...init.constant([3], 1).dataSync()]).toEqual([1, 1, 1]);
    expect([...init.zeros([2]).dataSync()]).toEqual([0, 0]);
  });
});
