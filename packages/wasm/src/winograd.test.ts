import { conv2d, Generator, getBackend, randn, setBackend } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import './index.js';
import type { WasmBackend } from './index.js';

// The Winograd path keeps each weight tensor's transformed kernels (src/kernels/winograd.ts);
// its arithmetic is checked against the reference backend by the conformance suite.
describe('Winograd transformed kernels', () => {
  it('are computed once per weight tensor, follow new weights, and are freed with the weight', async () => {
    await setBackend('wasm');
    const heap = (getBackend() as WasmBackend).heap;
    const generator = new Generator(7);
    const x = randn([2, 16, 13, 13], { generator });
    const before = heap.liveBytes;
    const w = randn([24, 16, 3, 3], { generator });
    const first = conv2d(x, w, { padding: 1 });
    const withTransform = heap.liveBytes;
    const again = conv2d(x, w, { padding: 1 });
    // The second call reuses the transform: the same bits, and only its output is new.
    expect(again.dataSync()).toEqual(first.dataSync());
    const outputBytes = 2 * 24 * 13 * 13 * 4;
    expect(heap.liveBytes).toBe(withTransform + Math.ceil(outputBytes / 64) * 64);
    // Another weight tensor gets its own transform, not the first one's.
    const w2 = randn([24, 16, 3, 3], { generator });
    const other = conv2d(x, w2, { padding: 1 });
    const expected = await conv2d(await x.to('reference'), await w2.to('reference'), {
      padding: 1,
    }).data();
    const got = other.dataSync();
    // F(4x4, 3x3) (13x13 maps) rounds to about 1.5e-5 of the largest output; a wrong or stale
    // transform is off by the outputs' own size.
    let scale = 0;
    for (const v of expected) scale = Math.max(scale, Math.abs(Number(v)));
    for (let i = 0; i < got.length; i++) {
      expect(Math.abs(got[i] - expected[i])).toBeLessThan(5e-5 * scale);
    }
    for (const t of [first, again, other, w, w2]) t.dispose();
    expect(heap.liveBytes).toBe(before);
    x.dispose();
  });
});
