/**
 * The output shapes declared once in the registry (kernel-names.ts), against shapes that follow
 * from the ops' definitions (PyTorch's): every backend allocates from these, so a wrong entry
 * would agree with itself everywhere and only a fact can catch it.
 */
import { describe, expect, it } from 'vitest';
import { BINARY_KERNELS, listKernels, OUTPUT_SHAPES, outputShape, UNARY_KERNELS } from './index.js';
import { conv2dAttrs } from './ops/conv.js';

describe('outputShape', () => {
  it('has a rule for every kernel of the registry', () => {
    for (const name of [...UNARY_KERNELS, ...BINARY_KERNELS])
      expect(typeof OUTPUT_SHAPES[name]).toBe('function');
    expect(Object.keys(OUTPUT_SHAPES).sort()).toEqual(listKernels('reference'));
  });

  it("gives AlexNet conv2's shapes (groups 2: the filter gradient holds 48 input channels)", () => {
    const a = conv2dAttrs([16, 96, 27, 27], [256, 48, 5, 5], { padding: 2, groups: 2 });
    expect(outputShape('Conv2d', [], a)).toEqual([16, 256, 27, 27]);
    expect(outputShape('Conv2dBackpropInput', [], a)).toEqual([16, 96, 27, 27]);
    expect(outputShape('Conv2dBackpropFilter', [], a)).toEqual([256, 48, 5, 5]);
    // conv1: 227 -> 55 at stride 4 (the paper's 224 + 3).
    const c1 = conv2dAttrs([1, 3, 227, 227], [96, 3, 11, 11], { stride: 4 });
    expect(outputShape('Conv2d', [], c1)).toEqual([1, 96, 55, 55]);
  });

  it('gives the shapes of the shape kernels', () => {
    expect(
      outputShape(
        'BatchMatMul',
        [
          [2, 5, 3],
          [2, 4, 3],
        ],
        { transposeA: false, transposeB: true },
      ),
    ).toEqual([2, 5, 4]);
    expect(
      outputShape(
        'BatchMatMul',
        [
          [1, 3, 5],
          [1, 3, 4],
        ],
        { transposeA: true, transposeB: false },
      ),
    ).toEqual([1, 5, 4]);
    expect(outputShape('Sum', [[2, 3, 4]], { dims: [0, 2] })).toEqual([3]);
    expect(outputShape('ArgMax', [[2, 3, 4]], { dim: 1 })).toEqual([2, 4]);
    expect(
      outputShape(
        'Concat',
        [
          [2, 3],
          [2, 5],
          [2, 1],
        ],
        { dim: 1 },
      ),
    ).toEqual([2, 9]);
    expect(
      outputShape('Pad', [[2, 3]], {
        paddings: [
          [1, 0],
          [2, 3],
        ],
        value: 0,
      }),
    ).toEqual([3, 8]);
    expect(outputShape('Transpose', [[2, 3, 4]], { perm: [2, 0, 1] })).toEqual([4, 2, 3]);
    expect(outputShape('OneHot', [[5]], { depth: 10 })).toEqual([5, 10]);
    expect(
      outputShape(
        'Add',
        [
          [4, 1, 3],
          [2, 1],
        ],
        {},
      ),
    ).toEqual([4, 2, 3]);
    expect(() => outputShape('Mul', [[2, 3], [4]], {})).toThrow(/Mul: shapes \[2, 3\] and \[4\]/);
  });
});
