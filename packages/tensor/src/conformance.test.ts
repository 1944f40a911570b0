import { describe, expect, it } from 'vitest';
import { checkConformance, conformanceCases } from './conformance.js';
import {
  type Backend,
  type KernelConfig,
  listKernels,
  ReferenceBackend,
  referenceKernels,
  registerBackend,
  registerKernel,
} from './index.js';

/** A copy of the reference backend under another name, optionally with one kernel replaced. */
function registerCopy(name: string, replace?: KernelConfig): void {
  registerBackend(name, () => {
    const backend = new ReferenceBackend();
    Object.defineProperty(backend, 'name', { value: name });
    return backend as Backend;
  });
  for (const kernel of referenceKernels) registerKernel({ ...kernel, backendName: name });
  if (replace) registerKernel({ ...replace, backendName: name });
}

describe('the conformance suite', () => {
  it('reaches every kernel of the registry', async () => {
    const used = new Set<string>();
    registerCopy('spy');
    for (const kernel of referenceKernels) {
      registerKernel({
        ...kernel,
        backendName: 'spy',
        kernelFunc: (args) => {
          used.add(kernel.kernelName);
          return kernel.kernelFunc(args);
        },
      });
    }
    for (const c of conformanceCases.filter((c) => !c.large)) await checkConformance(c, 'spy');
    for (const c of conformanceCases.filter((c) => c.large && c.name.startsWith('conv1')))
      await checkConformance(c, 'spy');
    const missing = listKernels('reference').filter((k) => !used.has(k));
    expect(missing).toEqual([]);
  }, 60_000);

  it('fails, naming the case and the output, when a backend gets a kernel wrong', async () => {
    const relu = referenceKernels.find((k) => k.kernelName === 'Relu')!;
    registerCopy('broken-relu', {
      ...relu,
      kernelFunc: (args) => referenceKernels.find((k) => k.kernelName === 'Neg')!.kernelFunc(args),
    });
    const c = conformanceCases.find((k) => k.name.startsWith('elementwise chain'))!;
    await expect(checkConformance(c, 'broken-relu')).rejects.toThrow(
      /elementwise chain with broadcasting on broken-relu: output/,
    );
  });
});
