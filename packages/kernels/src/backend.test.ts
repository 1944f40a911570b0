/**
 * The backend's own behaviour on every mode in GPUNET_MODES: compile caching, no leaks over a
 * training loop, data staying on the device, and the errors of modes that cannot run here.
 */

import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import * as T from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import {
  autoChoice,
  chooseMode,
  GPU_MODES,
  GpuBackend,
  type GpuBackendName,
  probeMode,
} from './index.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm')
  .split(',')
  .filter(Boolean) as GpuBackendName[];

/** A small conv net: conv 3x3 (4 filters) -> relu -> maxPool 2 -> linear 3, cross-entropy loss. */
function makeNet() {
  const g = new T.Generator(3);
  const param = (shape: number[], scale: number) => {
    const t = T.keep(T.mul(T.randn(shape, { generator: g }), scale));
    t.requiresGrad = true;
    return t;
  };
  const params = [param([4, 1, 3, 3], 0.3), param([4], 0.1), param([3, 36], 0.2), param([3], 0.1)];
  const x = T.keep(T.randn([2, 1, 8, 8], { generator: g }));
  const y = T.keep(T.tensor(new Int32Array([0, 2]), [2]));
  const step = () => {
    T.tidy(() => {
      const [w1, b1, w2, b2] = params;
      const h = T.maxPool2d(T.relu(T.conv2d(x, w1, { bias: b1 })), { kernelSize: 2 });
      const loss = T.crossEntropy(T.linear(T.flatten(h, 1), w2, b2), y);
      loss.backward();
    });
    T.tidy(() =>
      T.noGrad(() => {
        for (const p of params) {
          const grad = p.grad;
          if (!grad) throw new Error('no gradient');
          p.assign(T.sub(p, T.mul(grad, 0.1)));
          grad.dispose();
          p.grad = null;
        }
      }),
    );
  };
  return { step, params, x, y };
}

for (const mode of MODES) {
  describe(`gpu.js ${mode} backend`, () => {
    it('a training step on fixed shapes compiles nothing after its first run and leaks nothing', async () => {
      await T.setBackend(mode);
      const backend = T.getBackend() as GpuBackend;
      const net = makeNet();
      net.step();
      const compiles = backend.stats.compiles;
      const memory = T.memory();
      const buffers = backend.numBuffers();
      for (let i = 1; i < 100; i++) net.step();
      expect(backend.stats.compiles).toBe(compiles);
      expect(T.memory()).toEqual(memory);
      expect(backend.numBuffers()).toBe(buffers);
      expect(backend.numBytes()).toBe(memory.numBytesInBackend);
      T.dispose([...net.params, net.x, net.y]);
      await T.setBackend('reference');
    });

    it('keeps results on the device between kernels and reads back only in read()', async () => {
      await T.setBackend(mode);
      const backend = T.getBackend() as GpuBackend;
      const a = T.tensor([1, 2, 3, 4], [2, 2]);
      const ten = T.scalar(10); // written before counting: a GL mode uploads it with a kernel
      const launches = backend.stats.launches;
      const c = T.relu(T.sub(T.matmul(a, a), ten));
      expect(backend.stats.launches - launches).toBe(3);
      expect(Array.from(await c.data())).toEqual([0, 0, 5, 12]);
      T.dispose([a, ten, c]);
      await T.setBackend('reference');
    });
  });
}

describe('mode resolution', () => {
  it('auto picks the best mode that runs here and says why better ones were passed over', async () => {
    const choice = chooseMode();
    expect(GPU_MODES).toContain(choice.mode);
    const better = GPU_MODES.slice(0, GPU_MODES.indexOf(choice.mode));
    expect(choice.passedOver.map((line) => line.split(':')[0])).toEqual(better);
    for (const mode of better) expect(probeMode(mode).isSupported).toBe(false);
    await T.setBackend('auto');
    expect(T.getBackendName()).toBe(choice.mode);
    expect(autoChoice()).toEqual(choice);
    await T.setBackend('reference');
  });

  it('webgpu in Node fails with an error that says what it needs', async () => {
    await expect(T.setBackend('webgpu')).rejects.toThrow(
      /mode 'webgpu' cannot run here: .*navigator\.gpu/,
    );
  });

  it('webgl2 in Node fails pointing to headlessgl', async () => {
    await expect(T.setBackend('webgl2')).rejects.toThrow(
      /webgl2 runs only in a browser; in Node use headlessgl/,
    );
  });

  it('headlessgl either runs (a matMul with known numbers) or says it needs the gl package and a display', async () => {
    const support = probeMode('headlessgl');
    if (!support.isSupported) {
      expect(support.reason).toMatch(/`gl` package.*xvfb-run -a/);
      return;
    }
    const previous = T.getBackendName();
    await T.setBackend('headlessgl');
    try {
      const a = T.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const b = T.tensor([7, 8, 9, 10, 11, 12], [3, 2]);
      // [[1*7+2*9+3*11, 1*8+2*10+3*12], [4*7+5*9+6*11, 4*8+5*10+6*12]]
      expect(Array.from(await T.matmul(a, b).data())).toEqual([58, 64, 139, 154]);
    } finally {
      await T.setBackend(previous);
    }
  });
});

describe('webasm-threads', () => {
  /** conv2 of AlexNet at a third of its width: 64 x 27 x 27 outputs, over the 4096 that split. */
  async function convStep(): Promise<Float32Array[]> {
    const g = new T.Generator(11);
    const x = T.keep(T.randn([1, 32, 27, 27], { generator: g }));
    const w = T.keep(T.mul(T.randn([64, 16, 5, 5], { generator: g }), 0.1));
    x.requiresGrad = true;
    w.requiresGrad = true;
    const y = T.tidy(() => {
      const out = T.relu(T.conv2d(x, w, { padding: 2, groups: 2 }));
      T.sum(T.mul(out, out)).backward();
      return out;
    });
    const out = [y, x.grad, w.grad].map((t) => {
      if (!t) throw new Error('no gradient');
      return t;
    });
    const values = await Promise.all(out.map(async (t) => (await t.data()) as Float32Array));
    T.dispose([...out, x, w]);
    return values;
  }

  it('gives the results of webasm bit for bit, on one pool of one worker per core', async () => {
    await T.setBackend('webasm');
    const expected = await convStep();
    await T.setBackend('webasm-threads');
    const backend = T.getBackend() as GpuBackend;
    expect(backend.name).toBe('webasm-threads');
    expect(backend.mode).toBe('webasm');
    // The process's threads (Linux), to see that the kernels made no pools of their own.
    const threads = () =>
      process.platform === 'linux' ? readdirSync('/proc/self/task').length : Number.NaN;
    const before = threads();
    const actual = await convStep();
    const added = threads() - before;
    actual.forEach((values, k) => {
      expect(values.length).toBe(expected[k].length);
      expect(Buffer.from(values.buffer).equals(Buffer.from(expected[k].buffer))).toBe(true);
    });
    // gpu.js would give each of these kernels (forward, both gradients, relu, sums: 9 of them)
    // a pool of its own, one worker per core each; the backend hands them one.
    expect(backend.workerCount).toBe(availableParallelism());
    expect(backend.stats.compiles).toBeGreaterThan(5);
    if (process.platform === 'linux') expect(added).toBeLessThan(2 * availableParallelism());
    await T.setBackend('reference');
  });

  it('says to await reads, since results arrive from worker threads', async () => {
    await T.setBackend('webasm-threads');
    const t = T.add(T.tensor([1, 2, 3]), 1);
    expect(() => t.dataSync()).toThrow(
      /webasm-threads.*worker threads.*'webasm' backend reads synchronously.*await tensor\.data\(\)/,
    );
    expect(Array.from(await t.data())).toEqual([2, 3, 4]);
    t.dispose();
    await T.setBackend('reference');
  });

  it('is only for webasm', () => {
    expect(() => new GpuBackend('cpu', { threads: true })).toThrow(
      /threads option is for mode 'webasm'.*not 'cpu'/,
    );
  });
});
