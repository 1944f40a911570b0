/**
 * The backend's own behaviour on every mode in GPUNET_MODES (test/backend-checks.ts, which the
 * browser harness runs too): training steps equal to the reference backend's, compile caching,
 * no leaks over a training loop, data staying on the device; `auto`'s choice, and the errors of
 * modes that cannot run here.
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as T from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { BACKEND_CHECKS } from '../test/backend-checks.js';
import {
  autoChoice,
  chooseBackend,
  GPU_BACKENDS,
  type GpuMode,
  probeBackend,
  probeMode,
} from './index.js';

const MODES = (process.env.GPUNET_MODES ?? 'cpu,webasm').split(',').filter(Boolean) as GpuMode[];

for (const mode of MODES) {
  describe(`gpu.js ${mode} backend`, () => {
    for (const c of BACKEND_CHECKS) it(c.name, () => c.check(mode));
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
