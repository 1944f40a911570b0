import { afterEach, describe, expect, it } from 'vitest';
import {
  add,
  type Backend,
  dispose,
  getBackendName,
  keep,
  listKernels,
  memory,
  mul,
  ones,
  ReferenceBackend,
  referenceKernels,
  registerBackend,
  registerKernel,
  runKernel,
  setBackend,
  sum,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from './index.js';

afterEach(async () => {
  await setBackend('reference');
});

describe('memory: tidy, keep, dispose', () => {
  it('tidy disposes what fn created except what it returns', () => {
    const before = memory().numTensors;
    const kept = tidy(() => {
      const a = ones([10]);
      const b = add(a, 1);
      return mul(b, 2);
    });
    expect(memory().numTensors).toBe(before + 1);
    expect([...kept.dataSync()].slice(0, 2)).toEqual([4, 4]);
    kept.dispose();
    expect(memory().numTensors).toBe(before);
  });

  it('keep() survives tidy; nested tidy hands its result to the outer scope', () => {
    const before = memory().numTensors;
    let survivor: Tensor | undefined;
    const result = tidy(() => {
      survivor = keep(ones([2]));
      const inner = tidy(() => add(ones([3]), 1));
      return { inner, list: [inner] };
    });
    expect(memory().numTensors).toBe(before + 2);
    dispose([survivor!, result.inner]);
    expect(memory().numTensors).toBe(before);
  });

  it('counts bytes per buffer: a reshape shares its buffer', () => {
    const before = memory();
    const a = ones([4, 4]);
    const b = a.reshape([16]);
    expect(memory().numTensors).toBe(before.numTensors + 2);
    expect(memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    expect(memory().numBytes).toBe(before.numBytes + 64);
    a.dispose();
    expect(memory().numBytes).toBe(before.numBytes + 64);
    b.dispose();
    expect(memory()).toEqual(before);
  });

  it('tidy disposes what it made when fn throws', () => {
    const before = memory().numTensors;
    expect(() =>
      tidy(() => {
        ones([3]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(memory().numTensors).toBe(before);
  });

  it('using a disposed tensor throws with its shape; dispose twice is safe', async () => {
    const a = ones([2, 3]);
    a.dispose();
    a.dispose();
    expect(() => add(a, 1)).toThrow('Add: an input tensor');
    await expect(a.data()).rejects.toThrow('data: tensor');
  });

  it('a training step leaks nothing: backward and update inside tidy', () => {
    const w = tensor([0.5, -0.5]);
    w.requiresGrad = true;
    const step = () =>
      tidy(() => {
        const loss = sum(mul(mul(w, w), tensor([1, 2])));
        loss.backward();
        w.assign(w.detach().sub(w.grad!.mul(0.1)));
        w.grad!.dispose();
        w.grad = null;
      });
    step();
    const after1 = memory();
    for (let i = 0; i < 20; i++) step();
    expect(memory()).toEqual(after1);
  });
});

describe('assign', () => {
  it('replaces values in place and checks the shape', () => {
    const w = zeros([2]);
    w.assign(tensor([3, 4]));
    expect([...w.dataSync()]).toEqual([3, 4]);
    expect(() => w.assign(tensor([1, 2, 3]))).toThrow(
      'assign: value [3] float32 does not match tensor [2] float32',
    );
  });
});

describe('backends and the kernel registry', () => {
  it('the reference backend is the default and registers every kernel', () => {
    expect(getBackendName()).toBe('reference');
    expect(listKernels('reference').length).toBe(referenceKernels.length);
  });

  it('a backend without a kernel gives an error naming both', async () => {
    class Partial extends ReferenceBackend {
      override readonly name = 'partial' as 'reference';
    }
    registerBackend('partial', () => new Partial() as Backend);
    registerKernel({
      ...referenceKernels.find((k) => k.kernelName === 'Add')!,
      backendName: 'partial',
    });
    await setBackend('partial');
    const a = ones([2]);
    expect([...add(a, a).dataSync()]).toEqual([2, 2]);
    expect(() => runKernel('Exp', [a], {})).toThrow(
      "Exp: backend 'partial' has no kernel registered under this name",
    );
  });

  it('setBackend names the registered backends when the name is unknown', async () => {
    await expect(setBackend('nope')).rejects.toThrow(
      "setBackend: no backend named 'nope' is registered (registered: reference",
    );
  });

  it('ops on tensors of two backends are refused; to() moves a tensor', async () => {
    registerBackend(
      'other',
      () =>
        new (class extends ReferenceBackend {
          override readonly name = 'other' as 'reference';
        })() as Backend,
    );
    for (const k of referenceKernels) registerKernel({ ...k, backendName: 'other' });
    const a = ones([2]);
    await setBackend('other');
    const b = ones([2]);
    expect(() => add(a, b)).toThrow(
      "Add: inputs live on different backends ('reference' and 'other')",
    );
    const moved = await a.to('other');
    expect([...add(moved, b).dataSync()]).toEqual([2, 2]);
  });
});
