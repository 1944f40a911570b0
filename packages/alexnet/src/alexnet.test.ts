import { readFile } from 'node:fs/promises';
import { Linear, readPth, readSafetensors } from '@gpunet/layers';
import { Generator, noGrad, randn, type Tensor, tidy } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import {
  AlexNet,
  activationPath,
  alexnet,
  featureMaps,
  layerTimings,
  outputSize,
  paperOptimizer,
} from './index.js';

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

function disposeModel(model: AlexNet): void {
  for (const p of model.parameters()) p.dispose();
}

describe('paperOptimizer', () => {
  it('has the paper optimizer preset: SGD lr 0.01, momentum 0.9, weight decay 5e-4, paper rule, plateau factor 0.1', () => {
    const model = alexnet({ variant: 'mini' });
    const { optimizer, scheduler } = paperOptimizer(model);
    expect(optimizer.paramGroups[0]).toMatchObject({
      lr: 0.01,
      momentum: 0.9,
      weightDecay: 0.0005,
      rule: 'paper',
    });
    expect(scheduler.factor).toBe(0.1);
    expect(scheduler.mode).toBe('min');
    scheduler.step(0.5);
    scheduler.step(0.5);
    scheduler.step(0.5); // two epochs without improvement, patience 1
    expect(optimizer.paramGroups[0]?.lr).toBeCloseTo(0.001, 12);
    disposeModel(model);
  });
});

describe("alexnet({ variant: 'torchvision' })", () => {
  it("has torchvision's state-dict keys and 61,100,840 parameters", () => {
    const model = alexnet({ variant: 'torchvision' });
    const keys = [...model.stateDict().keys()];
    expect(keys).toEqual(
      ['features.0', 'features.3', 'features.6', 'features.8', 'features.10']
        .concat(['classifier.1', 'classifier.4', 'classifier.6'])
        .flatMap((k) => [`${k}.weight`, `${k}.bias`]),
    );
    const count = model.parameters().reduce((n, p) => n + p.size, 0);
    expect(count).toBe(61_100_840);
    disposeModel(model);
  }, 60_000);

  it('loads a .pth written by PyTorch for the torchvision architecture (shrunk widths) and gives its logits within 1e-4', async () => {
    // fixtures/make_fixtures.py: torchvision's AlexNet module, line for line, with channels
    // 16/48/96/64/64, fc width 128 and 10 classes, run by PyTorch on a [2, 3, 224, 224] input.
    const model = alexnet({
      variant: 'torchvision',
      channels: [16, 48, 96, 64, 64],
      hidden: 128,
      numClasses: 10,
    }).eval();
    const weights = readPth(new Uint8Array(await readFile(fixture('torchvision_small.pth'))));
    const result = model.loadStateDict(weights.tensors);
    expect(result.loaded).toHaveLength(16);
    const io = readSafetensors(
      new Uint8Array(await readFile(fixture('torchvision_small_io.safetensors'))),
    );
    const x = io.tensors.get('x') as Tensor;
    const expected = io.tensors.get('y') as Tensor;
    expect(expected.shape).toEqual([2, 10]);
    const logits = noGrad(() => model.forward(x));
    assertClose(logits.dataSync(), expected.dataSync(), { atol: 1e-4, rtol: 0 }, 'logits');
    // The logits are of order 10 and differ between the two images, so 1e-4 is a real test.
    expect(Math.max(...expected.dataSync().map(Math.abs))).toBeGreaterThan(5);
    for (const t of [...weights.tensors.values(), ...io.tensors.values(), logits]) t.dispose();
    disposeModel(model);
  }, 60_000);
});

describe("alexnet({ variant: 'mini' })", () => {
  it('keeps the design (LRN, overlapping pooling, groups 2, dropout) at 28-64 px, 1 or 3 channels', () => {
    for (const [inputSize, inChannels, numClasses] of [
      [28, 1, 10],
      [32, 3, 10],
      [64, 3, 100],
    ] as const) {
      const model = alexnet({ variant: 'mini', inputSize, inChannels, numClasses }).eval();
      const summary = model.summary([2, inChannels, inputSize, inputSize], { print: null });
      const last = summary.rows.at(-1);
      expect(last?.outputShape).toEqual([2, numClasses]);
      let side: number = inputSize;
      for (let i = 0; i < 3; i++) side = outputSize(side, 3, 2, 0);
      expect(summary.rows.find((r) => r.name === 'features.14')?.outputShape).toEqual([
        2,
        32,
        side,
        side,
      ]);
      const types = summary.rows.map((r) => r.type);
      expect(types.filter((t) => t === 'LocalResponseNorm')).toHaveLength(2);
      expect(types.filter((t) => t === 'Dropout')).toHaveLength(2);
      if (inputSize === 28) expect(summary.totalParams).toBe(72_394); // see docs/alexnet.md
      disposeModel(model);
    }
  });

  it('names what is wrong with a bad variant or a too-small input', () => {
    expect(() => alexnet({ variant: 'vgg' as 'mini' })).toThrow(
      /variant must be 'paper', 'torchvision' or 'mini', got 'vgg'/,
    );
    expect(() => alexnet({ variant: 'paper', inputSize: 40 })).toThrow(/inputSize 40 is too small/);
  });
});

describe('AlexNet layers and activations', () => {
  it('derives each learned layer path and names the paths when one is unknown', () => {
    const model = alexnet({ variant: 'mini', inputSize: 28, inChannels: 1 }).eval();
    expect(model.layerPaths).toEqual({
      conv1: 'features.0',
      conv2: 'features.4',
      conv3: 'features.8',
      conv4: 'features.10',
      conv5: 'features.12',
      fc6: 'classifier.0',
      fc7: 'classifier.3',
      fc8: 'classifier.6',
    });
    expect(alexnet({ variant: 'torchvision', numClasses: 3, hidden: 8 }).layerPaths).toMatchObject({
      conv2: 'features.3',
      conv5: 'features.10',
      fc6: 'classifier.1',
      fc8: 'classifier.6',
    });
    expect(activationPath(model, 'conv1')).toBe('features.1');
    expect(activationPath(model, 'fc7')).toBe('classifier.4');
    expect(activationPath(model, 'fc8')).toBe('classifier.6');
    expect(activationPath(model, 'flatten')).toBe('flatten');
    expect(() => activationPath(model, 'fc9')).toThrow(
      /no layer or module 'fc9'; the layers are conv1, .* and the modules features, features.0, /,
    );
    expect(model).toBeInstanceOf(AlexNet);
    const layer = new Map(model.namedModules()).get(model.layerPaths.fc8);
    expect(layer).toBeInstanceOf(Linear);
    disposeModel(model);
  });

  it('featureMaps and layerTimings (hooks) see the outputs of the modules run one by one', () => {
    const model = alexnet({ variant: 'mini', inputSize: 28, inChannels: 1, numClasses: 4 });
    const x = randn([2, 1, 28, 28], { generator: new Generator(5) });
    // The reference: every leaf's own forward, in order, no hooks.
    const byPath = new Map<string, number[]>();
    noGrad(() => {
      let y = x;
      for (const [path, m] of model.namedModules()) {
        if (m.children().length > 0) continue;
        y = m.eval().forward(y);
        byPath.set(path, [...y.dataSync()]);
      }
    });
    model.train();
    const maps = featureMaps(model, x, ['conv1', 'conv2', 'features.3', 'fc8']);
    expect([...maps.keys()]).toEqual(['conv1', 'conv2', 'features.3', 'fc8']);
    expect([...(maps.get('conv1') as Tensor).dataSync()]).toEqual(byPath.get('features.1'));
    expect([...(maps.get('conv2') as Tensor).dataSync()]).toEqual(byPath.get('features.5'));
    expect([...(maps.get('features.3') as Tensor).dataSync()]).toEqual(byPath.get('features.3'));
    expect([...(maps.get('fc8') as Tensor).dataSync()]).toEqual(byPath.get('classifier.6'));
    expect(model.isTraining).toBe(true);
    for (const t of maps.values()) t.dispose();
    const { output, timings } = layerTimings(model, x);
    expect(timings.map((t) => t.path)).toEqual([...byPath.keys()]);
    expect(timings.find((t) => t.path === 'features.4')?.shape).toEqual([2, 32, 13, 13]);
    expect(timings.every((t) => t.ms >= 0 && t.type.length > 0)).toBe(true);
    expect([...output.dataSync()]).toEqual(byPath.get('classifier.6'));
    // Hooks are gone afterwards: a plain call records nothing more.
    noGrad(() => tidy(() => model.call(x)));
    expect(timings).toHaveLength(byPath.size);
    output.dispose();
    x.dispose();
    disposeModel(model);
  });
});
