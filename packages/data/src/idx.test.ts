import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIdx, readIdx } from './idx.js';
import { idxBytes, tempDir, writeBytes } from './internal/fixtures.js';
import { DataLoader } from './node/data-loader.js';
import { Mnist, readIdxFile } from './node/mnist.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

// Three 2x3 images whose pixel k of image n is 10 * n + k; labels 7, 0, 12 (12 is out of range).
const imageValues = Array.from({ length: 18 }, (_, i) => 10 * Math.floor(i / 6) + (i % 6));

describe('parseIdx', () => {
  it('reads the shape from the big-endian header and keeps uint8 values', () => {
    const parsed = parseIdx(idxBytes([3, 2, 3], imageValues), 'mem');
    expect(parsed.dtype).toBe('uint8');
    expect(parsed.shape).toEqual([3, 2, 3]);
    expect(Array.from(parsed.data)).toEqual(imageValues);
  });

  it('reads big-endian int32 bodies (type 0x0c)', () => {
    const bytes = Uint8Array.from([0, 0, 0x0c, 1, 0, 0, 0, 2, 0, 0, 1, 0, 0xff, 0xff, 0xff, 0xfe]);
    expect(Array.from(parseIdx(bytes, 'mem').data)).toEqual([256, -2]);
  });

  it('rejects a wrong magic number, naming the file and the bytes', () => {
    expect(() => parseIdx(idxBytes([2], [1, 2], [1, 2, 8]), 'labels.idx')).toThrow(
      'labels.idx: not an IDX file: wrong magic number 01 02 08 01 (expected 00 00 <type 08..0e> <ndim>)',
    );
    expect(() => parseIdx(idxBytes([2], [1, 2], [0, 0, 0x42]), 'x')).toThrow(
      'x: not an IDX file: wrong magic number 00 00 42 01',
    );
  });

  it('rejects a truncated body with the bytes expected and found', () => {
    const bytes = idxBytes([3, 2, 3], imageValues).subarray(0, 16 + 10);
    expect(() => parseIdx(bytes, 'imgs')).toThrow(
      'imgs: IDX body is truncated: shape [3, 2, 3] of uint8 needs 18 bytes after the 16-byte header, found 10',
    );
    expect(() => parseIdx(bytes.subarray(0, 9), 'imgs')).toThrow(
      'imgs: IDX header is truncated: 3 dimensions need 16 bytes, file has 9',
    );
  });
});

describe('readIdx', () => {
  it('gunzips with DecompressionStream (as in a browser) and parses', async () => {
    const parsed = await readIdx(gzipSync(idxBytes([3, 2, 3], imageValues)), 'x.gz');
    expect(parsed.shape).toEqual([3, 2, 3]);
    expect(Array.from(parsed.data)).toEqual(imageValues);
  });

  it('names a corrupt gzip file', async () => {
    const bytes = gzipSync(idxBytes([3], [1, 2, 3])).subarray(0, 12);
    await expect(readIdx(bytes, 'labels.gz')).rejects.toThrow('labels.gz: corrupt gzip data');
  });
});

describe('Mnist', () => {
  beforeAll(async () => {
    await writeBytes(
      join(dir, 'train-images-idx3-ubyte.gz'),
      idxBytes([3, 2, 3], imageValues),
      true,
    );
    await writeBytes(join(dir, 'train-labels-idx1-ubyte'), idxBytes([3], [7, 0, 12]));
    await writeBytes(
      join(dir, 't10k-images-idx3-ubyte'),
      idxBytes([1, 2, 3], imageValues.slice(0, 6)),
    );
    await writeBytes(join(dir, 't10k-labels-idx1-ubyte'), idxBytes([2], [1, 2]));
    await writeBytes(
      join(dir, 'bad', 'train-images-idx3-ubyte'),
      idxBytes([1, 2, 3], imageValues.slice(0, 6), [0, 0, 0x0d]),
    );
  });

  it('reads gzipped and plain files into 1-channel HWC images and labels', async () => {
    const mnist = new Mnist(dir);
    expect(mnist.length).toBe(3);
    const raw = await mnist.read(1);
    expect(raw.label).toBe(0);
    expect(raw.image).toMatchObject({ width: 3, height: 2, channels: 1, layout: 'hwc' });
    expect(Array.from((raw.image as { data: Uint8Array }).data)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(readIdxFile(join(dir, 'train-images-idx3-ubyte.gz')).shape).toEqual([3, 2, 3]);
  });

  it('batches as float NCHW in [0, 1] with int32 labels', async () => {
    const loader = new DataLoader(new Mnist(dir), { batchSize: 2, onError: 'skip' });
    const batches = [];
    for await (const batch of loader) batches.push(batch);
    expect(batches).toHaveLength(1);
    expect(batches[0].images.shape).toEqual([2, 1, 2, 3]);
    expect(batches[0].images.dataSync()[7]).toBeCloseTo(11 / 255, 6);
    expect(Array.from(batches[0].labels.dataSync())).toEqual([7, 0]);
    expect(batches[0].labels.dtype).toBe('int32');
    expect(loader.skipped.map((s) => [s.index, s.source])).toEqual([
      [2, `${join(dir, 'train-labels-idx1-ubyte')}#2`],
    ]);
  });

  it('names the labels file and record for a label out of range', async () => {
    await expect(new Mnist(dir).read(2)).rejects.toThrow(
      `${join(dir, 'train-labels-idx1-ubyte')}#2: label 12 is out of range for 10 classes (0..9)`,
    );
  });

  it('names both files when image and label counts differ, and a missing file', () => {
    expect(() => new Mnist(dir, { train: false })).toThrow(
      `${join(dir, 't10k-labels-idx1-ubyte')}: has 2 labels but ${join(dir, 't10k-images-idx3-ubyte')} has 1 images`,
    );
    expect(() => new Mnist(join(dir, 'bad'))).toThrow(
      `${join(dir, 'bad', 'train-labels-idx1-ubyte')}: IDX file not found (also tried .gz)`,
    );
  });
});
