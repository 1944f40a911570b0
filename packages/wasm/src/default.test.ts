import { conv2d, getBackendName, randn, tidy } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { WasmBackend } from './index.js';

describe('wasm as the default backend', () => {
  it('importing @gpunet/wasm makes it the backend of the first tensor, synchronously', () => {
    // No setBackend call anywhere in this file: the import alone decides.
    const x = randn([2, 2]);
    expect(getBackendName()).toBe('wasm');
    expect(x.backend.name).toBe('wasm');
    x.dispose();
  });

  it('gives the same bits while its worker threads are still starting as after they joined', async () => {
    const backend = WasmBackend.createSync({ threads: 2 });
    // A convolution big enough to be split over 2 threads (by images).
    const compute = () =>
      tidy(() => {
        const x = randn([4, 8, 20, 20]);
        const w = randn([16, 8, 3, 3]);
        return conv2d(x, w, { padding: 1 }).dataSync();
      });
    expect(backend.pool.size).toBe(2);
    const started = backend.pool.workersReady;
    // The default backend is the one made on import; run the check on this fresh one by hand.
    const { setBackend, registerBackend, manualSeed } = await import('@gpunet/tensor');
    registerBackend('wasm-fresh', () => backend, -5);
    await setBackend('wasm-fresh');
    manualSeed(3);
    const early = compute();
    expect(await backend.pool.whenReady()).toBe(true);
    manualSeed(3);
    const late = compute();
    expect(Array.from(late)).toEqual(Array.from(early));
    // Not a vacuous check: when this ran first the workers were not up yet (they take ms).
    expect(started).toBe(false);
    await setBackend('wasm');
  });
});
