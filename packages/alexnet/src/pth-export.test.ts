import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPth, writePth, writeSafetensors } from '@gpunet/layers';
import { describe, expect, it } from 'vitest';
import { type AlexNet, type AlexNetOptions, alexnet } from './index.js';

const fixtures = fileURLToPath(new URL('../fixtures/', import.meta.url));
const PYTHON = '/usr/bin/python3';
// Debian's python3-torch; CI machines built without it skip the PyTorch half (the reason shows).
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

function disposeModel(model: AlexNet): void {
  for (const p of model.parameters()) p.dispose();
}

describe('AlexNet state dicts as .pth', () => {
  it("round-trip through gpunet's own .pth reader into a fresh model (every variant)", async () => {
    for (const variant of ['paper', 'torchvision', 'mini'] as const) {
      const options: AlexNetOptions = { variant, channels: [8, 16, 24, 24, 16], hidden: 32 };
      const model = alexnet({ ...options, seed: 1 });
      const back = readPth(await writePth(model.stateDict()));
      const fresh = alexnet({ ...options, seed: 2 });
      expect(fresh.loadStateDict(back.tensors).loaded).toHaveLength(16);
      for (const [key, t] of model.stateDict()) {
        const u = fresh.stateDict().get(key);
        expect([...((await u?.data()) ?? [])], key).toEqual([...(await t.data())]);
      }
      for (const t of back.tensors.values()) t.dispose();
      disposeModel(model);
      disposeModel(fresh);
    }
  });

  describe.runIf(hasTorch)(
    `torch.load(weights_only=True) into PyTorch's modules (${PYTHON} with torch)`,
    () => {
      it("torchvision's AlexNet (make_fixtures.py) and the paper's layout (make_paper_fixture.py) load it strictly, every tensor equal", async () => {
        const small = { channels: [16, 48, 96, 64, 64], hidden: 128, numClasses: 10 } as const;
        const models = {
          torchvision: alexnet({ variant: 'torchvision', ...small }),
          paper: alexnet({ variant: 'paper', ...small, channels: [16, 32, 48, 48, 32] }),
        };
        const dir = await mkdtemp(join(tmpdir(), 'gpunet-pth-'));
        try {
          const jobs: string[] = [];
          for (const [variant, model] of Object.entries(models)) {
            const pth = join(dir, `${variant}.pth`);
            const reference = join(dir, `${variant}.safetensors`);
            await writeFile(pth, await writePth(model.stateDict()));
            await writeFile(reference, await writeSafetensors(model.stateDict()));
            const o = model.options;
            jobs.push(
              [pth, reference, variant, o.channels.join(','), o.hidden, o.numClasses].join(':'),
            );
          }
          const run = spawnSync(PYTHON, ['check_pth_export.py', ...jobs], {
            cwd: fixtures,
            encoding: 'utf8',
          });
          expect(run.stderr).toBe('');
          const results = run.stdout
            .trim()
            .split('\n')
            .map((line) => JSON.parse(line));
          expect(results).toEqual(
            Object.values(models).map((model) => ({
              keys: 16,
              params: model.parameters().reduce((n, p) => n + p.size, 0),
              equal: true,
              dtypes: ['torch.float32'],
              type: 'OrderedDict',
            })),
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
          for (const model of Object.values(models)) disposeModel(model);
        }
      }, 60_000);
    },
  );
});
