import {
  conv2d,
  crossEntropy,
  flatten,
  Generator,
  getBackend,
  linear,
  maxPool2d,
  memory,
  noGrad,
  randn,
  relu,
  setBackend,
  tensor,
  tidy,
} from '@gpunet/tensor';
import { afterAll, describe, expect, it } from 'vitest';
import { type GpuJsBackend, IMPLEMENTED_MODES, modeAvailability, resolveAuto } from './index.js';

afterAll(async () => {
  await setBackend('reference');
});

describe('modes', () => {
  it('auto picks the best mode that runs here and says why each better one was passed over', () => {
    const { mode, passedOver } = resolveAuto();
    expect(mode).toBe('webasm');
    expect(passedOver.map((p) => p.mode)).toEqual(['webgpu', 'webgl2', 'webgl', 'headlessgl']);
    expect(passedOver.every((p) => typeof p.reason === 'string' && p.reason.length > 20)).toBe(
      true,
    );
  });

  it('a mode that cannot run gives an error that says why and what to do', () => {
    expect(modeAvailability('webgpu').reason).toMatch(/navigator\.gpu/);
    expect(modeAvailability('webgl2').reason).toMatch(/needs a browser|does not implement/);
    expect(modeAvailability('headlessgl').reason).toMatch(/`gl` package|does not implement/);
  });
});

describe.each(IMPLEMENTED_MODES)('the %s backend', (mode) => {
  it('compiles nothing after the first training step, and 100 steps leave tensors and bytes where step 1 left them', async () => {
    await setBackend(mode);
    const generator = new Generator(3);
    const params = [
      randn([4, 1, 3, 3], { generator }),
      randn([4], { generator }),
      randn([2, 4 * 3 * 3], { generator }),
      randn([2], { generator }),
    ];
    for (const p of params) {
      p.requiresGrad = true;
      p.keep();
    }
    const images = randn([4, 1, 6, 6], { generator }).keep();
    const labels = tensor([0, 1, 1, 0], [4], { dtype: 'int32' }).keep();
    const step = () =>
      tidy(() => {
        const h = maxPool2d(relu(conv2d(images, params[0], { bias: params[1], padding: 1 })), {
          kernelSize: 2,
        });
        crossEntropy(linear(flatten(h, 1), params[2], params[3]), labels).backward();
        noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad!.mul(0.05)));
            p.grad!.dispose();
            p.grad = null;
          }
        });
      });
    step();
    const backend = getBackend() as GpuJsBackend;
    const compiles = backend.compiles;
    const afterFirst = memory();
    for (let i = 0; i < 99; i++) step();
    expect(backend.compiles).toBe(compiles);
    expect(memory()).toEqual(afterFirst);
  });
});
