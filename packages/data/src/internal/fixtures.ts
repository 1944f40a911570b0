/**
 * Test fixtures written byte by byte or with sharp into a temp dir (tests only; not exported).
 * Every file a test reads is made here, so no binary blob is checked in.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';

/** A fresh temp dir and a function that removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'gpunet-data-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes HWC uint8 RGB pixels as a PNG (lossless) or JPEG file, creating folders. */
export async function writeImage(
  path: string,
  pixels: Uint8Array,
  width: number,
  height: number,
  format: 'png' | 'jpeg' = 'png',
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const image = sharp(pixels, { raw: { width, height, channels: 3 } });
  await writeFile(
    path,
    format === 'png'
      ? await image.png().toBuffer()
      : await image.jpeg({ quality: 95, chromaSubsampling: '4:4:4' }).toBuffer(),
  );
}

/** An IDX file: magic 00 00 <type> <ndim>, big-endian uint32 sizes, then uint8 values. */
export function idxBytes(
  shape: number[],
  values: ArrayLike<number>,
  magic: [number, number, number] = [0, 0, 0x08],
): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header.set([...magic, shape.length]);
  const view = new DataView(header.buffer);
  shape.forEach((s, i) => {
    view.setUint32(4 + 4 * i, s, false);
  });
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(Uint8Array.from(values), header.length);
  return out;
}

/** Writes bytes to `path`, gzipped when `gzip` is set (the path should then end in .gz). */
export async function writeBytes(path: string, bytes: Uint8Array, gzip = false): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gzip ? gzipSync(bytes) : bytes);
}

/** CIFAR-10 binary records: for each, a label byte then 3072 pixel bytes from `pixel(record, i)`. */
export function cifarBytes(
  labels: number[],
  pixel: (record: number, i: number) => number,
): Uint8Array {
  const out = new Uint8Array(labels.length * 3073);
  labels.forEach((label, r) => {
    out[r * 3073] = label;
    for (let i = 0; i < 3072; i++) out[r * 3073 + 1 + i] = pixel(r, i);
  });
  return out;
}

/** A `width` x `height` RGB image whose pixel (x, y) is `[r, g, b] = f(x, y)`. */
export function rgbPixels(
  width: number,
  height: number,
  f: (x: number, y: number) => [number, number, number],
): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) out.set(f(x, y), (y * width + x) * 3);
  return out;
}
