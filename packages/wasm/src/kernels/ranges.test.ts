import {
  conv2d,
  getBackendName,
  manualSeed,
  randn,
  registerBackend,
  setBackend,
  tidy,
} from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { WasmBackend } from '../index.js';
import { threadRanges } from './ranges.js';

describe('threadRanges', () => {
  it('covers [0, total) in order with at most `threads` ranges, each a multiple long but the last', () => {
    expect(threadRanges(10, 4)).toEqual([
      [0, 3],
      [3, 6],
      [6, 9],
      [9, 10],
    ]);
    // 5 images on 4 threads: ceil(5 / 4) = 2 per range, so only 3 ranges.
    expect(threadRanges(5, 4)).toEqual([
      [0, 2],
      [2, 4],
      [4, 5],
    ]);
    expect(threadRanges(20, 2, { multiple: 8 })).toEqual([
      [0, 16],
      [16, 20],
    ]);
    expect(threadRanges(40, 4, { minPerThread: 16 })).toEqual([
      [0, 20],
      [20, 40],
    ]);
    expect(threadRanges(3, 8, { minPerThread: 16 })).toEqual([[0, 3]]);
  });
});

describe('conv2d filter gradient split by images', () => {
  it('equals the reference backend when the batch leaves a thread without images (5 on 4 threads)', async () => {
    const previous = getBackendName();
    const backend = WasmBackend.createSync({ threads: 4 });
    registerBackend('wasm-4-threads', () => backend, -5);
    const run = async (name: string) => {
      await setBackend(name);
      // Dirty the heap first, so that a scratch buffer nobody writes holds old values.
      tidy(() => randn([1 << 16]).mul(1000));
      manualSeed(7);
      const x = randn([5, 3, 9, 9]);
      const w = randn([4, 3, 3, 3]);
      x.requiresGrad = true;
      w.requiresGrad = true;
      conv2d(x, w, { padding: 1 }).sum().backward();
      const grad = Array.from(await (w.grad as NonNullable<typeof w.grad>).data());
      x.dispose();
      w.dispose();
      return grad;
    };
    try {
      const onWasm = await run('wasm-4-threads');
      const expected = await run('reference');
      for (const [i, v] of onWasm.entries()) expect(v).toBeCloseTo(expected[i], 3);
    } finally {
      await setBackend(previous);
    }
  });
});
