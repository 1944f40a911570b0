import { describe, expect, it } from 'vitest';
import { stridedSum, type WindowGeometry, windowInterior, windowLeaves } from './index-math.js';

/** Evaluates the generated lines as JavaScript over arrays `x` and `w`. */
function runSum(lines: string[], x: Float32Array, w: Float32Array): number {
  const body = `let acc = 0;\n${lines.join('\n')}\nreturn acc;`;
  return new Function('x', 'w', 'xi', 'wi', body)(x, w, 3, 5) as number;
}

function plainSum(n: number, x: Float32Array, xStep: number, w: Float32Array, wStep: number) {
  let acc = 0;
  for (let p = 0; p < n; p++) acc += x[3 + p * xStep] * w[5 + p * wStep];
  return acc;
}

const geometry = (over: Partial<WindowGeometry>): WindowGeometry => ({
  inHeight: 27,
  inWidth: 27,
  outHeight: 27,
  outWidth: 27,
  kernelHeight: 5,
  kernelWidth: 5,
  strideHeight: 1,
  strideWidth: 1,
  padTop: 2,
  padLeft: 2,
  dilationHeight: 1,
  dilationWidth: 1,
  ...over,
});

describe('stridedSum', () => {
  const x = Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i));
  const w = Float32Array.from({ length: 4000 }, (_, i) => Math.cos(i * 0.7));
  for (const n of [1, 3, 8, 11, 48, 53]) {
    it(`sums ${n} strided products in the plain loop's order`, () => {
      const lines = stridedSum(
        'acc',
        n,
        { name: 'x', base: 'xi', step: 7 },
        { name: 'w', base: 'wi', step: 3 },
        'c',
      );
      expect(runSum(lines, x, w)).toBe(plainSum(n, x, 7, w, 3));
    });
  }

  it('writes a sum no longer than the unroll without a loop, at literal offsets', () => {
    const lines = stridedSum(
      'acc',
      3,
      { name: 'x', base: 'xi', step: 4 },
      { name: 'w', base: 'wi', step: 1 },
      'k',
    );
    expect(lines).toEqual([
      'acc += x[(xi)] * w[(wi)];',
      'acc += x[(xi) + 4] * w[(wi) + 1];',
      'acc += x[(xi) + 8] * w[(wi) + 2];',
    ]);
  });
});

describe('windowInterior', () => {
  it('conv2 (27 wide, 5 taps, padding 2): columns 2..24 see no padding', () => {
    expect(windowInterior(geometry({}), 'w')).toEqual({ lo: 2, hi: 25 });
    expect(windowLeaves(geometry({}), 'w')).toBe(true);
  });

  it('conv1 (227 wide, 11 taps, stride 4, no padding): every window fits', () => {
    const conv1 = geometry({
      inWidth: 227,
      outWidth: 55,
      kernelWidth: 11,
      strideWidth: 4,
      padLeft: 0,
    });
    expect(windowInterior(conv1, 'w')).toEqual({ lo: 0, hi: 55 });
    expect(windowLeaves(conv1, 'w')).toBe(false);
  });

  it('an unpadded window that overhangs the last column leaves the input', () => {
    // 10 wide, 3 taps, stride 4, out 3 (ceil mode): the last window starts at 8 and ends at 10.
    const g = geometry({ inWidth: 10, outWidth: 3, kernelWidth: 3, strideWidth: 4, padLeft: 0 });
    expect(windowInterior(g, 'w')).toEqual({ lo: 0, hi: 2 });
    expect(windowLeaves(g, 'w')).toBe(true);
  });

  it('dilation widens the reach; a kernel wider than the input has no interior', () => {
    expect(windowInterior(geometry({ dilationWidth: 2, padLeft: 0, outWidth: 19 }), 'w')).toEqual({
      lo: 0,
      hi: 19,
    });
    expect(windowInterior(geometry({ inWidth: 3, outWidth: 3, padLeft: 2 }), 'w')).toEqual({
      lo: 2,
      hi: 2,
    });
  });
});
