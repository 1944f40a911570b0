import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Image } from '../image.js';
import { rgbPixels, tempDir, writeImage } from '../internal/fixtures.js';
import { decodeImage } from './decode.js';
import { ImageFolder } from './image-folder.js';

let dir: string;
let cleanup: () => Promise<void>;
const gradient = rgbPixels(5, 4, (x, y) => [x * 50, y * 60, 200]);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  const root = join(dir, 'ok');
  // Classes 'b', 'a', 'C': sorted by code point -> ['C', 'a', 'b'].
  await writeImage(join(root, 'b', '2.png'), gradient, 5, 4);
  await writeImage(join(root, 'b', '1.jpg'), gradient, 5, 4, 'jpeg');
  await writeImage(join(root, 'a', 'x.PNG'), gradient, 5, 4);
  await writeImage(join(root, 'C', 'nested', 'deep.jpeg'), gradient, 5, 4, 'jpeg');
  await writeFile(join(root, 'a', 'notes.txt'), 'not an image');
  await writeImage(join(dir, 'empty', 'full', '0.png'), gradient, 5, 4);
  await mkdir(join(dir, 'empty', 'hollow', 'sub'), { recursive: true });
  await writeFile(join(dir, 'corrupt.jpg'), Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]));
});
afterAll(() => cleanup());

describe('ImageFolder', () => {
  it('sorts classes by code point and labels files by their class folder, recursively', () => {
    const ds = new ImageFolder(join(dir, 'ok'));
    expect(ds.classes).toEqual(['C', 'a', 'b']);
    expect(ds.samples.map(([p, l]) => [p.slice(join(dir, 'ok').length + 1), l])).toEqual([
      ['C/nested/deep.jpeg', 0],
      ['a/x.PNG', 1],
      ['b/1.jpg', 2],
      ['b/2.png', 2],
    ]);
  });

  it('decodes PNG exactly and JPEG closely to HWC uint8 RGB', async () => {
    const ds = new ImageFolder(join(dir, 'ok'));
    const png = (await ds.get(3)).image as Image;
    expect(png).toMatchObject({ width: 5, height: 4, channels: 3, layout: 'hwc' });
    expect(Array.from(png.data)).toEqual(Array.from(gradient));
    const jpeg = (await ds.get(2)).image as Image;
    // JPEG is lossy: compare the mean absolute error.
    const meanError =
      Array.from(jpeg.data, (v, i) => Math.abs(v - gradient[i])).reduce((a, b) => a + b) /
      gradient.length;
    expect(meanError).toBeLessThan(4);
  });

  it('throws naming an empty class folder, or keeps it with allowEmpty', () => {
    expect(() => new ImageFolder(join(dir, 'empty'))).toThrow(
      `${join(dir, 'empty', 'hollow')}: class folder 'hollow' has no images with extensions .jpg, .jpeg, .png (pass allowEmpty: true to keep it)`,
    );
    const ds = new ImageFolder(join(dir, 'empty'), { allowEmpty: true });
    expect([ds.classes, ds.length]).toEqual([['full', 'hollow'], 1]);
  });

  it('names a missing root', () => {
    expect(() => new ImageFolder(join(dir, 'nope'))).toThrow(
      `${join(dir, 'nope')}: ImageFolder root does not exist`,
    );
  });

  it('names a file that cannot be read any more', async () => {
    await writeImage(join(dir, 'gone', 'a', '0.png'), gradient, 5, 4);
    const ds = new ImageFolder(join(dir, 'gone'));
    await rm(join(dir, 'gone', 'a', '0.png'));
    await expect(ds.read(0)).rejects.toThrow(
      `${join(dir, 'gone', 'a', '0.png')}: cannot read image file (ENOENT)`,
    );
    await expect(ds.read(1)).rejects.toThrow('ImageFolder: index 1 is out of range for 1 samples');
  });

  it('names the file of a corrupt image', async () => {
    const path = join(dir, 'corrupt.jpg');
    await expect(
      decodeImage({ bytes: Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), source: path }),
    ).rejects.toThrow(`${path}: cannot decode image (7 bytes):`);
  });
});
