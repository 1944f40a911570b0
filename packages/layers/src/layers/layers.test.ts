import { Generator, memory, noGrad, tensor, tidy } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { ReLU, Softmax } from './activation.js';
import { CrossEntropyLoss } from './cross-entropy-loss.js';
import { Dropout } from './dropout.js';
import { Flatten } from './flatten.js';
import { Linear } from './linear.js';
import { Sequential } from './sequential.js';

describe('Linear', () => {
  it('computes x Wᵀ + b by hand', () => {
    const fc = new Linear(3, 2);
    noGrad(() => {
      fc.weight.assign(
        tensor([
          [1, 0, -1],
          [2, 1, 0],
        ]),
      );
      fc.bias!.assign(tensor([0.5, -1]));
    });
    const y = noGrad(() =>
      fc.forward(
        tensor([
          [1, 2, 3],
          [-1, 0, 1],
        ]),
      ),
    );
    assertClose(y.dataSync(), [1 - 3 + 0.5, 2 + 2 - 1, -1 - 1 + 0.5, -2 - 1]);
  });

  it('initializes weight and bias within 1/sqrt(inFeatures)', () => {
    const fc = new Linear(16, 4, { generator: new Generator(1) });
    for (const p of fc.parameters())
      expect(Math.max(...p.dataSync().map(Math.abs))).toBeLessThanOrEqual(0.25);
  });
});

describe('activations, Flatten, Dropout and the loss', () => {
  it('ReLU zeroes negatives; Softmax sums to 1 along its dim', () => {
    assertClose(noGrad(() => new ReLU().forward(tensor([-1, 0, 2]))).dataSync(), [0, 0, 2]);
    const s = noGrad(() => new Softmax(1).forward(tensor([[0, Math.log(3)]]))).dataSync();
    assertClose(s, [0.25, 0.75], { atol: 1e-6 });
  });

  it('Flatten keeps the batch dim: [2, 3, 4, 5] -> [2, 60]', () => {
    const y = new Flatten().forward(tensor(new Float32Array(120), [2, 3, 4, 5]));
    expect(y.shape).toEqual([2, 60]);
  });

  it('Dropout(0.5) zeroes about half and doubles the rest in training, and is the identity after eval()', () => {
    const drop = new Dropout(0.5, { generator: new Generator(0) });
    const x = tensor(new Float32Array(1000).fill(1));
    const y = tidy(() => drop.forward(x)).dataSync();
    const kept = y.filter((v) => v !== 0);
    expect(new Set(kept)).toEqual(new Set([2]));
    expect(kept.length).toBeGreaterThan(450);
    expect(kept.length).toBeLessThan(550);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
  });

  it('CrossEntropyLoss equals -mean log softmax at the labels', () => {
    const logits = tensor([
      [1, 2, 3],
      [1, 1, 1],
    ]);
    const labels = tensor([2, 0], [2], { dtype: 'int32' });
    const loss = noGrad(() => new CrossEntropyLoss().forward(logits, labels));
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    expect(loss.dataSync()[0]).toBeCloseTo((lse - 3 + Math.log(3)) / 2, 6);
  });

  it('Sequential feeds layers in order and leaks nothing under tidy', () => {
    const net = new Sequential(
      new Linear(2, 3, { generator: new Generator(0) }),
      new ReLU(),
      new Linear(3, 1),
    );
    const x = tensor([[1, 2]]);
    const before = memory().numTensors;
    const y = tidy(() => net.forward(x));
    expect(y.shape).toEqual([1, 1]);
    y.dispose();
    expect(memory().numTensors).toBe(before);
  });
});
