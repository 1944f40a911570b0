import { noGrad, randn, tensor } from '@gpunet/tensor';
import { unzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readPickle } from './pickle.js';
import { readPth } from './pth.js';
import { writePth } from './pth-write.js';

describe('writePth', () => {
  it('round-trips through readPth: keys in order, shapes, float32 and int32 values bit for bit', async () => {
    const tensors = new Map([
      ['features.0.weight', randn([4, 3, 3, 3])],
      ['features.0.bias', randn([4])],
      ['classifier.1.weight', randn([300, 2])],
      ['scalar', tensor([2.5], [])],
      ['counts', tensor(new Int32Array([7, -1, 2 ** 30]), [3])],
    ]);
    const bytes = await writePth(tensors);
    const back = readPth(bytes);
    expect([...back.tensors.keys()]).toEqual([...tensors.keys()]);
    for (const [key, t] of tensors) {
      const u = back.tensors.get(key);
      expect(u?.shape).toEqual(t.shape);
      expect(u?.dtype).toBe(t.dtype);
      expect([...((await u?.data()) ?? [])]).toEqual([...(await t.data())]);
    }
    for (const t of [...tensors.values(), ...back.tensors.values()]) t.dispose();
  });

  it('lays the archive out as torch.save does: data.pkl, byteorder, data/<n>, version, stored uncompressed', async () => {
    const t = noGrad(() => randn([2, 2]));
    const bytes = await writePth(new Map([['w', t]]));
    const files = unzipSync(bytes);
    expect(Object.keys(files)).toEqual([
      'archive/data.pkl',
      'archive/byteorder',
      'archive/data/0',
      'archive/version',
    ]);
    expect(new TextDecoder().decode(files['archive/byteorder'])).toBe('little');
    expect(new TextDecoder().decode(files['archive/version'])).toBe('3\n');
    expect(new Float32Array(files['archive/data/0'].slice().buffer)).toEqual(await t.data());
    // The pickle is an OrderedDict whose value is a _rebuild_tensor_v2 call on storage '0'.
    const root = readPickle(files['archive/data.pkl'], 'data.pkl');
    expect(root).toBeInstanceOf(Map);
    expect((root as Map<string, unknown>).get('w')).toMatchObject({
      kind: 'tensor',
      shape: [2, 2],
      stride: [2, 1],
      storageOffset: 0,
      storage: { storageType: 'FloatStorage', key: '0' },
    });
    // Stored: the storage's bytes appear verbatim in the file.
    const raw = new Uint8Array((await t.data()).buffer);
    const at = Buffer.from(bytes).indexOf(Buffer.from(raw));
    expect(at).toBeGreaterThan(0);
    t.dispose();
  });
});
