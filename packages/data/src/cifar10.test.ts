import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cifar10Dataset } from './cifar10.js';
import { cifarBytes, tempDir, writeBytes } from './internal/fixtures.js';
import { Cifar10 } from './node/cifar10.js';
import { DataLoader } from './node/data-loader.js';
import { toTensor } from './transforms/to-tensor.js';

let dir: string;
let cleanup: () => Promise<void>;
const pixel = (record: number, i: number) => (record * 7 + i) % 256;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const bin = join(dir, 'cifar-10-batches-bin');
  for (let b = 1; b <= 5; b++)
    await writeBytes(join(bin, `data_batch_${b}.bin`), cifarBytes([b, 9], pixel));
  await writeBytes(join(bin, 'test_batch.bin'), cifarBytes([3, 10, 4], pixel));
  await writeBytes(
    join(dir, 'short', 'test_batch.bin'),
    cifarBytes([1, 2], pixel).subarray(0, 3073 + 100),
  );
});
afterAll(() => cleanup());

describe('Cifar10', () => {
  it('reads five training batches of label + CHW records from the parent folder', async () => {
    const train = new Cifar10(dir);
    expect(train.length).toBe(10);
    expect(train.classes[9]).toBe('truck');
    const raw = await train.read(2); // data_batch_2.bin, record 0
    expect(raw.label).toBe(2);
    expect(raw.source).toBe(join(dir, 'cifar-10-batches-bin', 'data_batch_2.bin#0'));
    expect(raw.image).toMatchObject({ width: 32, height: 32, channels: 3, layout: 'chw' });
    // Green plane, row 1, column 2: byte 1024 + 32 + 2 of the record's image.
    expect((raw.image as { data: Uint8Array }).data[1024 + 34]).toBe(pixel(0, 1024 + 34));
  });

  it('collates to [N, 3, 32, 32] with the red, green and blue planes in order', async () => {
    const test = new Cifar10(join(dir, 'cifar-10-batches-bin'), {
      train: false,
      transform: toTensor(),
    });
    const loader = new DataLoader(test, { batchSize: 3, onError: 'skip' });
    for await (const { images, labels } of loader) {
      expect(images.shape).toEqual([2, 3, 32, 32]);
      expect(Array.from(labels.dataSync())).toEqual([3, 4]);
      const data = images.dataSync();
      // Sample 1 is record 2; channel 2 (blue) value 5 is byte 2048 + 5.
      expect(data[3 * 1024 + 2048 + 5]).toBeCloseTo(pixel(2, 2048 + 5) / 255, 6);
    }
    expect(loader.skipped).toEqual([
      {
        index: 1,
        source: join(dir, 'cifar-10-batches-bin', 'test_batch.bin#1'),
        message: `${join(dir, 'cifar-10-batches-bin', 'test_batch.bin#1')}: label 10 is out of range for 10 classes (0..9)`,
      },
    ]);
  });

  it('names a truncated batch file and its size', () => {
    expect(() => new Cifar10(join(dir, 'short'), { train: false })).toThrow(
      `${join(dir, 'short', 'test_batch.bin')}: CIFAR-10 batch is truncated or not a CIFAR-10 binary batch: 3173 bytes is not a whole number of 3073-byte records`,
    );
    expect(() => new Cifar10(join(dir, 'short'))).toThrow(
      `${join(dir, 'short', 'data_batch_1.bin')}: cannot read CIFAR-10 batch (ENOENT)`,
    );
  });

  it('works on in-memory batches for the browser', async () => {
    const ds = new Cifar10Dataset([{ bytes: cifarBytes([5], pixel), source: 'mem' }]);
    expect((await ds.get(0)).label).toBe(5);
  });
});
