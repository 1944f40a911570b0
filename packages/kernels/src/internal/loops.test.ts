import { describe, expect, it } from 'vitest';
import { dotSource } from '../kernels/matmul.js';
import { stridedSum } from './index-math.js';
import { loopIterations } from './loops.js';

describe('loopIterations', () => {
  it('counts each loop once per pass of the loops around it, plus its exit', () => {
    const source = [
      'for (let a = 0; a < 3; a++) {',
      'if (a > 1) { s += 1; }',
      'for (let b = 0; b < 10; b += 4) {',
      's += b;',
      '}',
      '}',
      'for (let c = 2; c < 7; c++) {',
      's += c;',
      '}',
    ].join('\n');
    // a: 3 + 1; b: 3 x (ceil(10 / 4) + 1); c: 5 + 1.
    expect(loopIterations(source)).toBe(4 + 12 + 6);
  });

  it('counts the loops the generators write', () => {
    // 9216 products four at a time: fc6's dot product.
    expect(loopIterations(dotSource(9216, 1, 4096))).toBe(9216 / 4 + 1);
    const read = (name: string) => ({ name, base: '0', step: 1 });
    expect(loopIterations(stridedSum('acc', 100, read('x'), read('y'), 'p', 8).join('\n'))).toBe(
      96 / 8 + 1,
    );
  });

  it('ignores loops whose bounds are not literals', () => {
    expect(loopIterations('for (let a = 0; a < n; a++) {\ns += a;\n}')).toBe(0);
  });
});
