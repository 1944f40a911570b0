import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tensor } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { loadWeights, saveSafetensors } from './node.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

describe('@gpunet/layers/node', () => {
  it('saves a .safetensors file and loads it back by path', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'gpunet-')), 'w.safetensors');
    await saveSafetensors(path, { 'fc.bias': tensor([1, 2]) }, { epoch: '3' });
    const file = await loadWeights(path);
    expect([...file.tensors.get('fc.bias')!.dataSync()]).toEqual([1, 2]);
    expect(file.metadata).toEqual({ epoch: '3' });
  });

  it('loads a .pth by path and names the file in errors', async () => {
    const file = await loadWeights(join(fixtures, 'tiny_net.pth'));
    expect(file.tensors.size).toBe(6);
    const dir = mkdtempSync(join(tmpdir(), 'gpunet-'));
    writeFileSync(join(dir, 'broken.pth'), 'PK not really');
    await expect(loadWeights(join(dir, 'broken.pth'))).rejects.toThrow(
      /broken\.pth: pth: not a readable zip archive/,
    );
    await expect(loadWeights(join(dir, 'weights.h5'))).rejects.toThrow(
      /weights\.h5: unknown weights file extension/,
    );
  });
});
