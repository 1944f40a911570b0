import { describe, expect, it } from 'vitest';
import { checkConformance, conformanceCases } from './conformance.js';
import {
  type Backend,
  type DataId,
  type KernelConfig,
  listKernels,
  ReferenceBackend,
  referenceKernels,
  registerBackend,
  registerKernel,
} from './index.js';

/**
 * A copy of the reference backend under another name, optionally with kernels replaced, and
 * optionally readable only asynchronously (no `readSync`, as webgpu).
 */
function registerCopy(
  name: string,
  replace: KernelConfig[] = [],
  { isAsyncOnly = false }: { isAsyncOnly?: boolean } = {},
): void {
  registerBackend(name, () => {
    const backend = new ReferenceBackend();
    Object.defineProperty(backend, 'name', { value: name });
    if (isAsyncOnly) {
      const read = async (dataId: DataId) => backend.values(dataId).slice();
      Object.defineProperty(backend, 'read', { value: read });
      Object.defineProperty(backend, 'readSync', { value: undefined });
    }
    return backend as Backend;
  });
  for (const kernel of referenceKernels) registerKernel({ ...kernel, backendName: name });
  for (const kernel of replace) registerKernel({ ...kernel, backendName: name });
}

const kernel = (name: string): KernelConfig => {
  const found = referenceKernels.find((k) => k.kernelName === name);
  if (!found) throw new Error(`no reference kernel ${name}`);
  return found;
};
const findCase = (prefix: string) => {
  const found = conformanceCases.find((c) => c.name.startsWith(prefix));
  if (!found) throw new Error(`no conformance case '${prefix}'`);
  return found;
};

describe('the conformance suite', () => {
  it('reaches every kernel of the registry with its small cases', async () => {
    const used = new Set<string>();
    registerCopy(
      'spy',
      referenceKernels.map((k) => ({
        ...k,
        kernelFunc: (args) => {
          used.add(k.kernelName);
          return k.kernelFunc(args);
        },
      })),
    );
    // The small cases alone reach every kernel; AlexNet's layers add shapes, not kernels.
    for (const c of conformanceCases.filter((c) => !c.isLarge)) await checkConformance(c, 'spy');
    const missing = listKernels('reference').filter((k) => !used.has(k));
    expect(missing).toEqual([]);
    // Every small case twice in float64 (the reference and its copy): 20-30 s alone, and over a
    // minute beside the other packages' tests in CI.
  }, 300_000);

  it('has AlexNet layer shapes at batch 1 and names each case once', () => {
    const names = conformanceCases.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const layer of ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8']) {
      const c = findCase(`AlexNet ${layer} `);
      expect(c.isLarge).toBe(true);
      expect(c.inputs[0].shape[0]).toBe(1);
    }
    expect(findCase('AlexNet fc6 ').inputs[1].shape).toEqual([4096, 9216]);
  });

  it('fails, naming the case, the backend and the output, when a backend gets a kernel wrong', async () => {
    registerCopy('broken-relu', [{ ...kernel('Relu'), kernelFunc: kernel('Neg').kernelFunc }]);
    await expect(checkConformance(findCase('elementwise chain'), 'broken-relu')).rejects.toThrow(
      /^elementwise chain with broadcasting on broken-relu: output: \d+ of 20/,
    );
  });

  it('names the gradient that differs when only a backward kernel is wrong', async () => {
    // Pow's gradient with respect to the exponent goes through Log: break Log alone.
    registerCopy('broken-log', [
      {
        ...kernel('Log'),
        kernelFunc: (args) => kernel('Sqrt').kernelFunc(args),
      },
    ]);
    await expect(checkConformance(findCase('pow positive base'), 'broken-log')).rejects.toThrow(
      /pow positive base on broken-log: gradient of input 1: /,
    );
  });

  it('reads asynchronously, so a backend without readSync (as webgpu) runs every small case', async () => {
    registerCopy('async-only', [], { isAsyncOnly: true });
    for (const c of conformanceCases.filter((c) => !c.isLarge))
      await checkConformance(c, 'async-only');
  }, 300_000);

  it('names the case and the backend when the backend throws', async () => {
    registerCopy('refuses-matmul', [
      {
        ...kernel('BatchMatMul'),
        kernelFunc: () => {
          throw new Error('over the limit');
        },
      },
    ]);
    await expect(
      checkConformance(findCase('matmul [5, 7] x [7, 3]'), 'refuses-matmul'),
    ).rejects.toThrow(
      /^matmul \[5, 7\] x \[7, 3\] on refuses-matmul: the backend threw: over the limit/,
    );
  });

  it("takes the caller's tolerance: a 1e-3 relative error fails the default and passes rtol 1e-2", async () => {
    const add = kernel('Add');
    registerCopy('sloppy-add', [
      {
        ...add,
        kernelFunc: (args) => {
          const out = add.kernelFunc(args);
          const values = (args.backend as ReferenceBackend).values(out.dataId);
          for (let i = 0; i < values.length; i++) values[i] *= 1 + 1e-3;
          return out;
        },
      },
    ]);
    const c = findCase('add same shape');
    await expect(checkConformance(c, 'sloppy-add')).rejects.toThrow(/add same shape.*output/);
    await checkConformance(c, 'sloppy-add', { tolerance: { atol: 1e-2, rtol: 1e-2 } });
  });
});
