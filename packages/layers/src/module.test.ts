import { Generator, memory, noGrad, type Tensor, tensor, tidy, zeros } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import * as init from './init.js';
import { ReLU } from './layers/activation.js';
import { Conv2d } from './layers/conv2d.js';
import { Dropout } from './layers/dropout.js';
import { Flatten } from './layers/flatten.js';
import { Linear } from './layers/linear.js';
import { LocalResponseNorm } from './layers/local-response-norm.js';
import { MaxPool2d } from './layers/pooling.js';
import { Sequential } from './layers/sequential.js';
import { Module } from './module.js';
import { isParameter, parameter } from './parameter.js';
import { StateDictError } from './state-dict.js';

/** A small AlexNet-shaped net: features / classifier, as torchvision names them. */
class SmallNet extends Module {
  features = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1, generator: new Generator(0) }),
    new ReLU(),
    new LocalResponseNorm(3),
    new MaxPool2d(3, { stride: 2 }),
  );
  flatten = new Flatten();
  classifier = new Sequential(
    new Dropout(0.5),
    new Linear(4 * 3 * 3, 5, { generator: new Generator(1) }),
  );

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.flatten.call(this.features.call(x)));
  }
}

describe('Module', () => {
  it('names parameters from attribute names, as PyTorch state-dict keys', () => {
    const net = new SmallNet();
    expect(net.namedParameters().map(([k, p]) => [k, p.shape])).toEqual([
      ['features.0.weight', [4, 3, 3, 3]],
      ['features.0.bias', [4]],
      ['classifier.1.weight', [5, 36]],
      ['classifier.1.bias', [5]],
    ]);
    expect(net.parameters().every((p) => p.requiresGrad && isParameter(p))).toBe(true);
    expect([...net.stateDict().keys()]).toEqual(net.namedParameters().map(([k]) => k));
  });

  it('names arrays of modules name.i and includes registered buffers in the state dict', () => {
    class Net extends Module {
      blocks = [new Linear(2, 2), new Linear(2, 1)];
      constructor() {
        super();
        this.registerBuffer('step', tensor([0], [1], { dtype: 'int32' }));
      }
      forward(x: Tensor): Tensor {
        return this.blocks[1].call(this.blocks[0].call(x));
      }
    }
    expect([...new Net().stateDict().keys()]).toEqual([
      'step',
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
      'blocks.1.bias',
    ]);
  });

  it('apply() visits children before their parent, and can re-initialize biases (the paper sets some to 1)', () => {
    const net = new SmallNet();
    const visited: string[] = [];
    noGrad(() =>
      net.apply((m) => {
        visited.push(m.typeName);
        if (m instanceof Linear && m.bias) m.bias.assign(init.constant(m.bias.shape, 1));
      }),
    );
    expect(visited).toEqual([
      'Conv2d',
      'ReLU',
      'LocalResponseNorm',
      'MaxPool2d',
      'Sequential',
      'Flatten',
      'Dropout',
      'Linear',
      'Sequential',
      'SmallNet',
    ]);
    expect([...(net.classifier.layers[1] as Linear).bias!.dataSync()]).toEqual([1, 1, 1, 1, 1]);
  });

  it('zeroGrad() drops every gradient', () => {
    const net = new SmallNet();
    tidy(() =>
      net
        .forward(zeros([1, 3, 7, 7]))
        .sum()
        .backward(),
    );
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    const before = memory().numTensors;
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    expect(memory().numTensors).toBe(before - 4);
  });

  it('requiresGrad_(false) freezes a subtree: backward leaves its parameters without .grad', () => {
    const net = new SmallNet();
    expect(net.features.requiresGrad_(false)).toBe(net.features);
    const trainable = net.namedParameters().filter(([, p]) => p.requiresGrad);
    expect(trainable.map(([k]) => k)).toEqual(['classifier.1.weight', 'classifier.1.bias']);
    tidy(() =>
      net
        .forward(
          tensor(
            Array.from({ length: 3 * 49 }, (_, i) => Math.sin(i)),
            [1, 3, 7, 7],
          ),
        )
        .sum()
        .backward(),
    );
    expect(net.namedParameters().map(([k, p]) => [k, p.grad !== null])).toEqual([
      ['features.0.weight', false],
      ['features.0.bias', false],
      ['classifier.1.weight', true],
      ['classifier.1.bias', true],
    ]);
    net.requiresGrad_();
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    net.zeroGrad();
  });

  it('train() and eval() set isTraining on every descendant', () => {
    const net = new SmallNet();
    net.eval();
    expect(net.namedModules().every(([, m]) => !m.isTraining)).toBe(true);
    net.train();
    expect(net.classifier.layers[0].isTraining).toBe(true);
  });

  it('parameters survive tidy: parameter() keeps them', () => {
    const before = memory().numTensors;
    const p = parameter(zeros([3]));
    expect(p.requiresGrad).toBe(true);
    expect(memory().numTensors).toBe(before + 1);
    p.dispose();
  });

  it('summary() reports each leaf layer output shape and parameter count', () => {
    const lines: string[] = [];
    const s = new SmallNet().summary([2, 3, 7, 7], { print: (t) => lines.push(t) });
    expect(s.rows).toEqual([
      { name: 'features.0', type: 'Conv2d', outputShape: [2, 4, 7, 7], params: 4 * 3 * 3 * 3 + 4 },
      { name: 'features.1', type: 'ReLU', outputShape: [2, 4, 7, 7], params: 0 },
      { name: 'features.2', type: 'LocalResponseNorm', outputShape: [2, 4, 7, 7], params: 0 },
      { name: 'features.3', type: 'MaxPool2d', outputShape: [2, 4, 3, 3], params: 0 },
      { name: 'flatten', type: 'Flatten', outputShape: [2, 36], params: 0 },
      { name: 'classifier.0', type: 'Dropout', outputShape: [2, 36], params: 0 },
      { name: 'classifier.1', type: 'Linear', outputShape: [2, 5], params: 36 * 5 + 5 },
    ]);
    expect(s.totalParams).toBe(112 + 185);
    expect(s.trainableParams).toBe(297);
    expect(lines[0]).toContain('features.0 (Conv2d)');
    expect(lines[0]).toContain('[2, 4, 3, 3]');
    expect(lines[0]).toContain('Total params: 297');
  });

  it('lists a parameter shared by two modules once, under its first name', () => {
    class Tied extends Module {
      a = new Linear(3, 3);
      b = new Linear(3, 3);
      constructor() {
        super();
        this.b.weight = this.a.weight;
      }
      forward(x: Tensor): Tensor {
        return this.b.call(this.a.call(x));
      }
    }
    const net = new Tied();
    expect(net.namedParameters().map(([k]) => k)).toEqual(['a.weight', 'a.bias', 'b.bias']);
    expect([...net.stateDict().keys()]).toEqual(['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  });

  it('a forward hook sees every layer output, equal to running the layers one by one', () => {
    const net = new SmallNet().eval();
    const seen = new Map<string, number[]>();
    const handles = net.namedModules().map(([name, m]) =>
      m.registerForwardHook((module, inputs, y) => {
        expect(module).toBe(m);
        expect(inputs).toHaveLength(1);
        seen.set(name, [...y.dataSync()]);
      }),
    );
    const x = init.normal([2, 3, 7, 7], 0, 1, { generator: new Generator(3) });
    const out = noGrad(() => net.call(x));
    // Every module, containers and the net itself included.
    expect([...seen.keys()].sort()).toEqual(
      net
        .namedModules()
        .map(([n]) => n)
        .sort(),
    );
    // The leaves' outputs, computed without hooks by their forward, one after another.
    noGrad(() => {
      let y = x;
      for (const [name, m] of net.namedModules()) {
        if (m.children().length > 0) continue;
        y = m.forward(y);
        expect(seen.get(name)).toEqual([...y.dataSync()]);
      }
      expect(seen.get('')).toEqual([...y.dataSync()]);
    });
    expect(seen.get('')).toEqual([...out.dataSync()]);
    // After remove(), the hooks see nothing.
    seen.clear();
    for (const h of handles) h.remove();
    noGrad(() => net.call(x));
    expect(seen.size).toBe(0);
  });

  it('a forward hook and a pre-hook can replace the output and the inputs; remove() is once', () => {
    const relu = new ReLU();
    const x = tensor([-1, 2], [2]);
    const doubled = relu.registerForwardHook((_, __, y) => y.mul(2));
    const negated = relu.registerForwardPreHook((_, [input]) => [(input as Tensor).neg()]);
    // relu(-x) * 2 = [2, 0]
    expect([...relu.call(x).dataSync()]).toEqual([2, 0]);
    negated.remove();
    negated.remove();
    expect([...relu.call(x).dataSync()]).toEqual([0, 4]);
    doubled.remove();
    expect([...relu.call(x).dataSync()]).toEqual([0, 2]);
    // The same function registered twice runs twice.
    let calls = 0;
    const count = () => {
      calls++;
    };
    const one = relu.registerForwardHook(count);
    relu.registerForwardHook(count);
    relu.call(x);
    expect(calls).toBe(2);
    one.remove();
    relu.call(x);
    expect(calls).toBe(3);
  });

  it('summary() leaves a forward defined as an arrow-function field in place', () => {
    class Double extends Module {
      forward = (x: Tensor): Tensor => x.mul(2);
    }
    const m = new Double();
    const before = m.forward;
    expect(m.summary([2, 3], { print: null }).rows).toEqual([
      { name: '', type: 'Double', outputShape: [2, 3], params: 0 },
    ]);
    expect(m.forward).toBe(before);
  });

  it('summary() names the last good layer when the input shape does not fit', () => {
    expect(() => new SmallNet().summary([1, 3, 9, 9], { print: null })).toThrow(
      /summary: input \[1, 3, 9, 9\] failed after classifier.0 \[1, 64\]: linear: input \[1, 64\] has 64 features but weight \[5, 36\]/,
    );
  });
});

describe('Module.loadStateDict', () => {
  it('copies values by key from another model', () => {
    const a = new SmallNet();
    const b = new SmallNet();
    noGrad(
      () =>
        b.classifier.layers[1] instanceof Linear &&
        (b.classifier.layers[1] as Linear).bias!.assign(tensor([1, 2, 3, 4, 5])),
    );
    const result = a.loadStateDict(b.stateDict());
    expect(result).toEqual({
      missingKeys: [],
      unexpectedKeys: [],
      mismatched: [],
      loaded: [...b.stateDict().keys()],
    });
    expect([...(a.classifier.layers[1] as Linear).bias!.dataSync()]).toEqual([1, 2, 3, 4, 5]);
  });

  it('strict loading lists missing keys, unexpected keys and shape mismatches, and loads nothing', () => {
    const net = new SmallNet();
    const before = [...net.namedParameters()[1][1].dataSync()];
    const state = new Map(net.stateDict());
    state.delete('classifier.1.bias');
    state.set('features.0.bias', zeros([7]));
    state.set('features.9.weight', zeros([1]));
    let error: unknown;
    try {
      net.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as Error).message).toBe(
      'loadStateDict: missing keys: classifier.1.bias; unexpected keys: features.9.weight; shape mismatches: ' +
        'features.0.bias is [4] in the model but [7] in the state dict',
    );
    expect([...net.namedParameters()[1][1].dataSync()]).toEqual(before);
  });

  it('strict: false loads what matches and reports the rest', () => {
    const net = new SmallNet();
    const result = net.loadStateDict(
      {
        'features.0.bias': tensor([1, 2, 3, 4]),
        'features.0.weight': zeros([1]),
        extra: zeros([2]),
      },
      { strict: false },
    );
    expect(result.loaded).toEqual(['features.0.bias']);
    expect(result.unexpectedKeys).toEqual(['extra']);
    expect(result.mismatched).toEqual([
      { key: 'features.0.weight', expected: [4, 3, 3, 3], got: [1] },
    ]);
    expect(result.missingKeys).toEqual(['classifier.1.weight', 'classifier.1.bias']);
    expect([...net.namedParameters()[1][1].dataSync()]).toEqual([1, 2, 3, 4]);
  });
});
