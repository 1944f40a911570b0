/**
 * Kernels over tensors larger than one launch may index (src/split.ts), on every Node mode in
 * GPUNET_MODES that splits (webasm; headlessgl under xvfb-run). The browser modes run the same
 * cases through test/browser. cpu computes indices in doubles and never splits. AlexNet's fc6
 * and fc7 at full size (weights of 37.7M and 16.8M elements) are conformance cases, on every mode.
 */
import * as T from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import './index.js';
import { GpuBackend, type GpuMode } from './index.js';
import { LOOP_LIMIT } from './internal/loops.js';
import { checkSplitCase, SPLIT_CASES } from './split-cases.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm')
  .split(',')
  .filter((m) => m !== '' && m !== 'cpu') as GpuMode[];
const TOLERANCE = { atol: 1e-4, rtol: 1e-4 };
const GL_TOLERANCE = { atol: 1e-3, rtol: 1e-3 };

async function backendOf(mode: GpuMode): Promise<GpuBackend> {
  await T.setBackend(mode);
  const backend = T.getBackend();
  if (!(backend instanceof GpuBackend)) throw new Error(`${mode} is not a gpu.js backend`);
  return backend;
}

for (const mode of MODES) {
  const onHost = mode === 'webasm';
  const tolerance = onHost ? TOLERANCE : GL_TOLERANCE;
  describe(`gpu.js ${mode}: kernels over the index limit run split`, () => {
    it.each(SPLIT_CASES)('$name', async (c) => {
      await checkSplitCase(mode, c, tolerance);
    });

    it('stores a tensor over the limit in pieces and reads it back whole', async () => {
      const backend = await backendOf(mode);
      backend.indexLimit = 1000;
      try {
        const values = Float32Array.from({ length: 3500 }, (_, k) => k * 0.5 - 7);
        const t = T.tensor(values, [35, 100]);
        expect(Array.from(await t.data())).toEqual(Array.from(values));
        const doubled = T.mul(t, 2);
        expect(Array.from(await doubled.data())).toEqual(Array.from(values, (v) => v * 2));
        T.dispose([t, doubled]);
      } finally {
        backend.indexLimit = 2 ** 23;
      }
    });

    it('stores a tensor over the limit in pieces of whole rows, so a linear layer passes them on uncopied', async () => {
      const backend = await backendOf(mode);
      backend.indexLimit = 1024;
      try {
        const gen = new T.Generator(2);
        const x = T.tensor(
          Float32Array.from({ length: 3 * 300 }, () => gen.uniform()),
          [3, 300],
        );
        const w = T.tensor(
          Float32Array.from({ length: 50 * 300 }, () => gen.uniform()),
          [50, 300],
        );
        const copies = backend.stats.copies;
        const y = T.linear(x, w);
        expect(backend.stats.copies).toBe(copies);
        const [xs, ws] = [await x.data(), await w.data()];
        const expected = Array.from({ length: 3 * 50 }, (_, k) => {
          let sum = 0;
          for (let p = 0; p < 300; p++)
            sum += xs[Math.floor(k / 50) * 300 + p] * ws[(k % 50) * 300 + p];
          return sum;
        });
        assertClose(await y.data(), expected, { atol: 1e-3, rtol: 1e-4 }, `linear on ${mode}`);
        T.dispose([x, w, y]);
      } finally {
        backend.indexLimit = 2 ** 23;
      }
    });

    it('refuses a kernel whose threads would loop past the loop limit, rather than run it cut short', async () => {
      const backend = await backendOf(mode);
      backend.loopLimit = 5;
      try {
        const x = T.ones([1, 4, 6, 6]);
        const w = T.ones([2, 4, 3, 3]);
        expect(() => T.conv2d(x, w)).toThrow(
          /would loop \d+ times per thread, over the 5 iterations/,
        );
        T.dispose([x, w]);
      } finally {
        backend.loopLimit = onHost ? Number.POSITIVE_INFINITY : LOOP_LIMIT;
      }
    });

    it('a transpose that moves dim 0 of a tensor over the limit: an error on GL, exact on webasm', async () => {
      const backend = await backendOf(mode);
      backend.indexLimit = 1024;
      try {
        const x = T.tensor(
          Float32Array.from({ length: 40 * 50 }, (_, k) => k),
          [40, 50],
        );
        if (onHost) {
          const fallbacks = backend.stats.fallbacks;
          const y = T.transpose(x);
          expect((await y.data())[1]).toBe(50);
          expect(backend.stats.fallbacks).toBe(fallbacks + 1);
          y.dispose();
        } else {
          expect(() => T.transpose(x)).toThrow(
            /Transpose meets a tensor of 2000 elements.*moves dim 0/,
          );
        }
        x.dispose();
      } finally {
        backend.indexLimit = 2 ** 23;
      }
    });
  });
}

afterAll(async () => {
  await T.setBackend('reference');
});
