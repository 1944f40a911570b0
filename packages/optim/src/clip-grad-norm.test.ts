import { memory, type Tensor, tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { clipGradNorm } from './clip-grad-norm.js';

function withGrad(values: number[], grad: number[]): Tensor {
  const p = tensor(values);
  p.grad = tensor(grad).keep();
  return p;
}

describe('clipGradNorm', () => {
  it('scales every gradient by maxNorm / (total + 1e-6) when the global norm exceeds maxNorm', async () => {
    const a = withGrad([0, 0], [3, 0]);
    const b = withGrad([0], [4]);
    const before = memory().numTensors;
    const norm = clipGradNorm([a, b], 1);
    expect(await norm.item()).toBeCloseTo(5, 6);
    const scale = 1 / (5 + 1e-6);
    assertClose(a.grad!.dataSync(), [3 * scale, 0], { atol: 1e-7 });
    assertClose(b.grad!.dataSync(), [4 * scale], { atol: 1e-7 });
    norm.dispose();
    expect(memory().numTensors).toBe(before);
    for (const t of [a, b]) t.dispose();
  });

  it('leaves gradients whose norm is below maxNorm unchanged and supports the infinity norm', async () => {
    const a = withGrad([0, 0], [0.3, -0.4]);
    const norm = clipGradNorm([a], 10);
    expect(await norm.item()).toBeCloseTo(0.5, 6);
    assertClose(a.grad!.dataSync(), [0.3, -0.4], { atol: 1e-7 });
    const inf = clipGradNorm([a], 0.2, Number.POSITIVE_INFINITY);
    expect(await inf.item()).toBeCloseTo(0.4, 6);
    assertClose(a.grad!.dataSync(), [0.15, -0.2], { atol: 1e-6 });
    for (const t of [a, norm, inf]) t.dispose();
  });
});
