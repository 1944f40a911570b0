import { describe, expect, it } from 'vitest';
import { Generator, linear, matmul, randn, reshape, slice, tensor } from '../index.js';
import { assertClose } from '../testing.js';

describe('matmul (torch.matmul semantics)', () => {
  it('2-D times 2-D', () => {
    const y = matmul(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      tensor([
        [1, 0],
        [0, 1],
        [1, 1],
      ]),
    );
    expect(y.shape).toEqual([2, 2]);
    expect([...y.dataSync()]).toEqual([4, 5, 10, 11]);
  });

  it('1-D operands: vector-matrix, matrix-vector and dot product', () => {
    const m = tensor([
      [1, 2],
      [3, 4],
    ]);
    const v = tensor([1, 1]);
    expect(matmul(v, m).shape).toEqual([2]);
    expect([...matmul(v, m).dataSync()]).toEqual([4, 6]);
    expect([...matmul(m, v).dataSync()]).toEqual([3, 7]);
    expect(matmul(v, v).shape).toEqual([]);
    expect(matmul(v, v).dataSync()[0]).toBe(2);
  });

  it('batch dims broadcast: [2, 1, 2, 3] @ [3, 3, 4] -> [2, 3, 2, 4], each block its own product', () => {
    const generator = new Generator(1);
    const a = randn([2, 1, 2, 3], { generator });
    const b = randn([3, 3, 4], { generator });
    const y = matmul(a, b);
    expect(y.shape).toEqual([2, 3, 2, 4]);
    const block = slice(y, [1, 2], [1, 1]);
    const expected = matmul(
      reshape(slice(a, [1], [1]), [2, 3]),
      reshape(slice(b, [2], [1]), [3, 4]),
    );
    assertClose(block.dataSync(), expected.dataSync(), { atol: 1e-6 });
  });

  it('linear is x Wᵀ + b with PyTorch weight layout [out, in]', () => {
    const x = tensor([
      [1, 2, 3],
      [0, 1, 0],
    ]);
    const w = tensor([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
      [1, 1, 1],
    ]);
    const b = tensor([0.5, 0, 0, -1]);
    const y = linear(x, w, b);
    expect(y.shape).toEqual([2, 4]);
    expect([...y.dataSync()]).toEqual([1.5, 2, 3, 5, 0.5, 1, 0, 0]);
  });

  it('errors name the shapes and the mismatched dims', () => {
    expect(() => matmul(tensor([[1, 2]]), tensor([[1, 2]]))).toThrow(
      'matmul: [1, 2] @ [1, 2]: inner dims 2 and 1 differ',
    );
    expect(() => linear(randn([2, 96]), randn([40, 97]))).toThrow(
      'linear: input [2, 96] has 96 features but weight [40, 97] expects 97',
    );
  });
});
