/**
 * The backend's own behaviour on every mode in GPUNET_MODES: training steps equal to the
 * reference backend's, compile caching, no leaks over a training loop, data staying on the
 * device; `auto`'s choice, and the errors of modes that cannot run here.
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as T from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { TOLERANCE } from '../test/modes.js';
import {
  autoChoice,
  chooseBackend,
  GPU_BACKENDS,
  type GpuBackend,
  type GpuMode,
  probeBackend,
  probeMode,
} from './index.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm').split(',').filter(Boolean) as GpuMode[];

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

/** The parameters after `steps` SGD steps of `makeNet` on `backend`. */
async function trainedParams(backend: string, steps: number): Promise<Float32Array[]> {
  await T.setBackend(backend);
  const net = makeNet();
  for (let i = 0; i < steps; i++) net.step();
  const values = await Promise.all(net.params.map(async (p) => (await p.data()) as Float32Array));
  T.dispose([...net.params, net.x, net.y]);
  await T.setBackend('reference');
  return values;
}

for (const mode of MODES) {
  describe(`gpu.js ${mode} backend`, () => {
    it('trains a small conv net as the reference backend does (5 SGD steps)', async () => {
      const expected = await trainedParams('reference', 5);
      const actual = await trainedParams(mode, 5);
      // The steps moved the parameters: a backend that computed no gradient would fail.
      const initial = await trainedParams('reference', 0);
      expect(Math.max(...expected[0].map((v, i) => Math.abs(v - initial[0][i])))).toBeGreaterThan(
        1e-2,
      );
      for (const [k, values] of actual.entries())
        assertClose(values, expected[k], TOLERANCE[mode], `${mode}: parameter ${k} after 5 steps`);
    });

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
      // 4 columns: webgpu and webgl2's blocked matmul (4 outputs per thread) needs no cut.
      const a = T.tensor(
        Array.from({ length: 16 }, (_, i) => i + 1),
        [4, 4],
      );
      const hundred = T.scalar(100); // written before counting: a GL mode uploads it with a kernel
      const launches = backend.stats.launches;
      const c = T.relu(T.sub(T.matmul(a, a), hundred));
      expect(backend.stats.launches - launches).toBe(3);
      expect(Array.from(await c.data())).toEqual([
        0, 0, 10, 20, 102, 128, 154, 180, 214, 256, 298, 340, 326, 384, 442, 500,
      ]);
      T.dispose([a, hundred, c]);
      await T.setBackend('reference');
    });
  });
}

describe('auto', () => {
  it('takes a GPU backend only on a real GPU, else the CPU backend, and says why', async () => {
    const choice = await chooseBackend();
    const probes = await Promise.all(GPU_BACKENDS.map((name) => probeBackend(name)));
    const taken = probes.find((p) => p.isSupported && !p.software);
    expect(choice.name).toBe(taken ? taken.name : 'reference'); // @gpunet/wasm is not imported here
    const passed = taken ? probes.slice(0, probes.indexOf(taken)) : probes;
    expect(choice.passedOver.map((line) => line.split(':')[0])).toEqual([
      ...passed.map((p) => p.name),
      ...(taken ? [] : ['wasm']),
    ]);
    for (const [k, probe] of passed.entries())
      expect(choice.passedOver[k]).toContain(probe.reason || probe.software);
    await T.setBackend('auto');
    expect(T.getBackendName()).toBe(choice.name);
    expect(autoChoice()).toEqual(choice);
    await T.setBackend('reference');
  });

  it('names the CPU backend it was given when no real GPU is here', async () => {
    const choice = await chooseBackend({ cpu: 'webasm' });
    if (!GPU_BACKENDS.includes(choice.name as (typeof GPU_BACKENDS)[number]))
      expect(choice.name).toBe('webasm');
  });
});

describe('mode resolution', () => {
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

describe('webgpu in Node', () => {
  /** Starts webgpu in a fresh Node process with `env`; returns what it printed. */
  const startIn = (env: NodeJS.ProcessEnv): string => {
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `import(${JSON.stringify(dist)}).then(async (k) => {
      const t = await import('@gpunet/tensor');
      try { await t.setBackend('webgpu'); console.log('ok', (await k.probeBackend('webgpu')).device); }
      catch (e) { console.log('error', e.message); }
    });`;
    const childEnv = { ...process.env, ...env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete childEnv[key];
    return execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: childEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  };

  it("uses the user's VK_ICD_FILENAMES and says so when Dawn finds no adapter with it", () => {
    expect(startIn({ VK_ICD_FILENAMES: '/nonexistent/icd.json' })).toMatch(
      /^error .*mode 'webgpu' cannot run here: .*no adapter with the Vulkan drivers tried \(user\)/,
    );
  });

  it('finds a driver by itself (the system GPU, else Chromium SwiftShader), and auto passes SwiftShader over', async () => {
    const out = startIn({ VK_ICD_FILENAMES: undefined, VK_DRIVER_FILES: undefined });
    expect(out).toMatch(/^ok .*Vulkan drivers: (system|.*vk_swiftshader_icd\.json)\)$/m);
    if (!/drivers: system/.test(out)) expect(out).toMatch(/^ok SwiftShader/);
    const probe = await probeBackend('webgpu');
    if (/SwiftShader/.test(probe.device)) {
      expect(probe.software).toMatch(/swiftshader, a CPU rasteriser/i);
      expect((await chooseBackend()).passedOver[0]).toMatch(/^webgpu: .*swiftshader.*CPU/i);
    }
  });
});
