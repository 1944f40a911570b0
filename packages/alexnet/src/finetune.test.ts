import { readFile } from 'node:fs/promises';
import { readPth } from '@gpunet/layers';
import { crossEntropy, Generator, randn, setBackend, tensor, tidy } from '@gpunet/tensor';
import '@gpunet/wasm';
import { describe, expect, it } from 'vitest';
import { alexnet, freeze, loadPretrained, paperOptimizer } from './index.js';

// fixtures/make_fixtures.py: torchvision's AlexNet written by PyTorch, widths 16/48/96/64/64,
// fc6/fc7 128, 10 classes.
const SMALL = { channels: [16, 48, 96, 64, 64] as const, hidden: 128 };
const readFixture = async () =>
  readPth(
    new Uint8Array(await readFile(new URL('../fixtures/torchvision_small.pth', import.meta.url))),
  );

describe('fine-tuning a torchvision checkpoint (torchvision recipe)', () => {
  it('loadPretrained re-initializes only the head for a new class count; freeze keeps features byte-identical while the classifier trains', async () => {
    await setBackend('wasm');
    const file = await readFixture();
    const model = alexnet({ variant: 'torchvision', numClasses: 3, ...SMALL, seed: 5 });
    const result = loadPretrained(model, file.tensors);
    expect(result).toEqual({
      head: 'classifier.6',
      pretrainedClasses: 10,
      numClasses: 3,
      replacedHead: true,
    });
    const state = model.stateDict();
    expect(state.get('classifier.6.weight')?.shape).toEqual([3, 128]);
    // Every other tensor is PyTorch's, bit for bit.
    for (const [key, value] of file.tensors) {
      if (key.startsWith('classifier.6.')) continue;
      expect([...(await (state.get(key) as typeof value).data())], key).toEqual([
        ...(await value.data()),
      ]);
    }
    const frozen = freeze(model, ['features']);
    expect(frozen).toBe(
      model
        .namedParameters()
        .filter(([k]) => k.startsWith('features.'))
        .reduce((n, [, p]) => n + p.size, 0),
    );
    const { optimizer } = paperOptimizer(model, { lr: 0.01 });
    expect(optimizer.paramGroups[0]?.params.length).toBe(6); // fc6, fc7, fc8: weight and bias
    const before = new Map<string, number[]>();
    for (const [key, p] of model.namedParameters()) before.set(key, [...(await p.data())]);
    const generator = new Generator(1);
    for (let step = 0; step < 2; step++) {
      const images = randn([2, 3, 224, 224], { generator });
      const labels = tensor([0, 2], [2], { dtype: 'int32' });
      tidy(() => crossEntropy(model.forward(images), labels).backward());
      optimizer.step();
      optimizer.zeroGrad();
      images.dispose();
      labels.dispose();
    }
    for (const [key, p] of model.namedParameters()) {
      const after = [...(await p.data())];
      if (key.startsWith('features.')) {
        expect(after, key).toEqual(before.get(key));
        expect(p.grad, key).toBeNull();
      } else expect(after, key).not.toEqual(before.get(key));
    }
    expect(() => freeze(model, ['feature'])).toThrow(
      "freeze: the model has no module 'feature' (its top-level modules: features, avgpool, flatten, classifier;",
    );
    for (const t of file.tensors.values()) t.dispose();
  }, 60_000);

  it('loads everything, head included, when the class counts match; names any other mismatch and loads nothing', async () => {
    await setBackend('wasm');
    const file = await readFixture();
    const same = alexnet({ variant: 'torchvision', numClasses: 10, ...SMALL });
    expect(loadPretrained(same, file.tensors).replacedHead).toBe(false);
    expect([...(await same.stateDict().get('classifier.6.bias')!.data())]).toEqual([
      ...(await file.tensors.get('classifier.6.bias')!.data()),
    ]);
    const wider = alexnet({
      variant: 'torchvision',
      numClasses: 3,
      channels: SMALL.channels,
      hidden: 64,
    });
    const conv1 = [...(await wider.stateDict().get('features.0.weight')!.data())];
    expect(() => loadPretrained(wider, file.tensors)).toThrow(
      /classifier\.1\.weight is \[64, 2304\] in the model but \[128, 2304\]/,
    );
    expect([...(await wider.stateDict().get('features.0.weight')!.data())]).toEqual(conv1);
    for (const t of file.tensors.values()) t.dispose();
  }, 60_000);
});
