import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Image } from '../image.js';
import { type PhotoFolder, tempDir, writePhotoFolder } from '../internal/fixtures.js';
import { DataLoader } from './data-loader.js';
import { ImageFolder } from './image-folder.js';

let dir: string;
let cleanup: () => Promise<void>;
let photos: PhotoFolder;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  photos = await writePhotoFolder(dir);
});
afterAll(() => cleanup());

const meanError = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
  return sum / a.length;
};

describe('ImageFolder on what real photo collections contain', () => {
  let folder: ImageFolder;
  const decoded = new Map<string, Image>();
  beforeAll(async () => {
    folder = new ImageFolder(dir);
    for (let i = 0; i < folder.length; i++) {
      const name = (folder.samples[i] as readonly [string, number])[0].slice(dir.length + 1);
      const sample = await folder.get(i).catch(() => null);
      if (sample) decoded.set(name, sample.image as Image);
    }
  });

  it('ignores hidden files and folders and non-images; finds every photo, whatever its extension', () => {
    expect(folder.classes).toEqual(['a', 'b']);
    expect(folder.samples.map(([p, label]) => [p.slice(dir.length + 1), label])).toEqual([
      ['a/baseline.jpg', 0],
      ['a/cmyk.jpg', 0],
      ['a/exif-rotated.jpg', 0],
      ['a/grey.jpg', 0],
      ['a/progressive.jpg', 0],
      ['b/alpha.png', 1],
      ['b/png16.png', 1],
      ['b/really-a-png.JPEG', 1],
      ['b/text.jpg', 1],
      ['b/truncated.jpg', 1],
    ]);
  });

  it('decodes every readable file to 3-channel uint8 HWC, with the right pixels', () => {
    for (const [name, image] of decoded) {
      expect(image.channels, name).toBe(3);
      expect(image.data, name).toBeInstanceOf(Uint8Array);
    }
    const { pixels } = photos;
    // JPEG is lossy; baseline and progressive give the same picture.
    expect(meanError(decoded.get('a/baseline.jpg')!.data, pixels)).toBeLessThan(3);
    expect(meanError(decoded.get('a/progressive.jpg')!.data, pixels)).toBeLessThan(3);
    // CMYK converted back to sRGB through libvips's colour profiles: close, not exact.
    expect(meanError(decoded.get('a/cmyk.jpg')!.data, pixels)).toBeLessThan(8);
    // Greyscale expands to R = G = B.
    const grey = decoded.get('a/grey.jpg')!.data;
    for (let p = 0; p < 40 * 30; p++) expect(grey[3 * p]).toBe(grey[3 * p + 2]);
    // PNG with alpha: the colour channels exactly, alpha dropped (as PIL's convert('RGB')).
    const alpha = decoded.get('b/alpha.png')!.data;
    expect(Array.from(alpha)).toEqual(Array.from(photos.rgba).filter((_, i) => i % 4 !== 3));
    // 16-bit PNG: every sample scaled to 8 bits (within one level).
    const deep = decoded.get('b/png16.png')!.data;
    expect(
      Math.max(...Array.from(deep, (v, i) => Math.abs(v - (photos.samples16[i] as number) / 257))),
    ).toBeLessThanOrEqual(1);
    // A PNG named .JPEG decodes as the PNG it is: exactly.
    expect(Array.from(decoded.get('b/really-a-png.JPEG')!.data)).toEqual(Array.from(pixels));
  });

  it('applies the EXIF orientation: stored 40x30 with orientation 6 comes out upright, 30x40', () => {
    const rotated = decoded.get('a/exif-rotated.jpg')!;
    expect([rotated.width, rotated.height]).toEqual([30, 40]);
    // The stored left half (red) is the top once turned 90 degrees clockwise.
    const at = (x: number, y: number) =>
      Array.from(rotated.data.subarray(3 * (y * 30 + x), 3 * (y * 30 + x) + 3));
    expect(at(15, 5)[0]).toBeGreaterThan(200);
    expect(at(15, 5)[2]).toBeLessThan(50);
    expect(at(15, 35)[0]).toBeLessThan(50);
    expect(at(15, 35)[2]).toBeGreaterThan(200);
  });

  it("a DataLoader with onError 'skip' lists every undecodable file with its reason in one pass; exclude leaves them out", async () => {
    expect([...decoded.keys()].length).toBe(8);
    const loader = new DataLoader(folder, {
      batchSize: 4,
      onError: 'skip',
      numWorkers: 1,
      collate: (s) => s,
    });
    let seen = 0;
    for await (const batch of loader) seen += batch.length;
    await loader.close();
    expect(seen).toBe(8);
    const skipped = [...loader.skipped].sort((x, y) => (x.source < y.source ? -1 : 1));
    expect(skipped.map((s) => s.source)).toEqual(photos.bad);
    expect(skipped[0]?.message).toMatch(
      /text\.jpg: cannot decode image \(\d+ bytes\): .*unsupported image format/,
    );
    expect(skipped[1]?.message).toMatch(
      // libvips's detail after 'corrupt header:' is per thread and sometimes lost on a worker.
      /truncated\.jpg: cannot decode image \(\d+ bytes\): .*(corrupt header|premature end)/i,
    );
    const clean = new ImageFolder(dir, { exclude: photos.bad });
    expect(clean.length).toBe(8);
    expect(clean.samples.some(([p]) => photos.bad.includes(p))).toBe(false);
    expect(join(dir, 'b', 'text.jpg')).toBe(photos.bad[0]);
  });
});
