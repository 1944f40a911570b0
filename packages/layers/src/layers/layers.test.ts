import {
  Generator,
  memory,
  mul,
  noGrad,
  randn,
  sum,
  type Tensor,
  tensor,
  tidy,
} from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { ReLU, Softmax } from './activation.js';
import { Conv2d } from './conv2d.js';
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

describe('Sequential fuses a Conv2d and the ReLU after it', () => {
  const build = () =>
    new Sequential(
      new Conv2d(3, 6, 3, { padding: 1, groups: 1, generator: new Generator(4) }),
      new ReLU({ inplace: true }),
      new Conv2d(6, 4, 2, { stride: 2, generator: new Generator(5) }),
      new ReLU(),
    );
  const x = () => randn([2, 3, 7, 6], { generator: new Generator(6) });

  /** The output and every parameter's gradient of sum(y * r) for a fixed r. */
  function run(net: Sequential, forward: (x: Tensor) => Tensor): Tensor[] {
    const y = forward(x());
    sum(mul(y, randn(y.shape, { generator: new Generator(7) }))).backward();
    return [y, ...net.parameters().map((p) => p.grad as Tensor)];
  }

  it('as one kernel (FusedConv2d) with the values and gradients of the layers run one by one', () => {
    const fusedNet = build();
    const fused = run(fusedNet, (input) => {
      const y = fusedNet.forward(input);
      // The output is made by the fused kernel, not by a ReLU after the convolution.
      expect(y.opName).toBe('FusedConv2d');
      return y;
    });
    const plainNet = build();
    const plain = run(plainNet, (input) =>
      plainNet.layers.reduce((y, layer) => layer.call(y), input),
    );
    expect(plain[0].opName).toBe('Relu');
    // About half the outputs are cut at 0.
    expect([...fused[0].dataSync()].filter((v) => v === 0).length).toBeGreaterThan(20);
    fused.forEach((t, k) => {
      assertClose(t.dataSync(), plain[k].dataSync(), { atol: 1e-5, rtol: 1e-5 }, `output ${k}`);
    });
  });

  it('but not where a hook must see the convolution or the ReLU on its own', () => {
    for (const hooked of [0, 1]) {
      const net = build();
      const seen: number[] = [];
      // The convolution's output, seen after the convolution or before the ReLU.
      if (hooked === 0) {
        net.layers[0].registerForwardHook((_m, _inputs, output) => {
          seen.push(Math.min(...output.dataSync()));
        });
      } else {
        net.layers[1].registerForwardPreHook((_m, [input]) => {
          seen.push(Math.min(...input.dataSync()));
        });
      }
      const y = noGrad(() => net.forward(x()));
      // The hook ran, on values before the ReLU (some negative).
      expect(seen.length).toBe(1);
      expect(seen[0]).toBeLessThan(0);
      expect(Math.min(...y.dataSync())).toBe(0);
    }
  });
});
