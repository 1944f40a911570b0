/**
 * Test fixtures written byte by byte or with sharp into a temp dir (tests only; not exported).
 * Every file a test reads is made here, so no binary blob is checked in.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
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

/** A 16-bit-per-sample RGB PNG (colour type 2, bit depth 16) written byte by byte. */
export function png16Bytes(width: number, height: number, samples: Uint16Array): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(Buffer.from(type, 'ascii'), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const header = new Uint8Array(13);
  const h = new DataView(header.buffer);
  h.setUint32(0, width);
  h.setUint32(4, height);
  header.set([16, 2, 0, 0, 0], 8);
  // Each row: filter byte 0, then big-endian samples.
  const raw = new Uint8Array(height * (1 + width * 6));
  const r = new DataView(raw.buffer);
  for (let y = 0; y < height; y++)
    for (let i = 0; i < width * 3; i++)
      r.setUint16(y * (1 + width * 6) + 1 + 2 * i, samples[y * width * 3 + i] as number);
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** What `writePhotoFolder` wrote: the pixels each case should decode to, and the bad files. */
export interface PhotoFolder {
  /** 40x30 RGB pixels every colour case was made from. */
  pixels: Uint8Array;
  /** 16-bit samples of `b/png16.png`. */
  samples16: Uint16Array;
  /** RGBA pixels of `b/alpha.png`. */
  rgba: Uint8Array;
  /** Undecodable files (truncated JPEG, text named .jpg), in sorted order. */
  bad: string[];
}

/**
 * A folder of what real photo collections contain, written with sharp (tests of ImageFolder and
 * of the CLI's --skip-bad-images): class `a` has a baseline and a progressive JPEG, a CMYK JPEG,
 * a 1-channel greyscale JPEG and a JPEG whose EXIF orientation is 6 (stored 40x30, shown 30x40:
 * its left half red, right half blue, so shown upright the top is red); class `b` has a PNG with
 * alpha, a 16-bit PNG, a PNG named .JPEG, a truncated JPEG and a text file named .jpg; both have
 * hidden files (`.DS_Store`, `._x.jpg`), a non-image (`notes.txt`), and the root a hidden
 * `.ipynb_checkpoints` folder.
 */
export async function writePhotoFolder(root: string): Promise<PhotoFolder> {
  const [width, height] = [40, 30];
  // Colours inside the CMYK gamut, so that the CMYK case can come back close to them.
  const pixels = rgbPixels(width, height, (x, y) => [80 + x * 2, 90 + y * 3, 140 - x]);
  const raw = () => sharp(pixels, { raw: { width, height, channels: 3 } });
  const put = async (path: string, bytes: Uint8Array) => writeBytes(join(root, path), bytes);
  const jpeg = { quality: 95, chromaSubsampling: '4:4:4' } as const;
  await put('a/baseline.jpg', await raw().jpeg(jpeg).toBuffer());
  await put(
    'a/progressive.jpg',
    await raw()
      .jpeg({ ...jpeg, progressive: true })
      .toBuffer(),
  );
  await put('a/cmyk.jpg', await raw().toColourspace('cmyk').jpeg(jpeg).toBuffer());
  await put('a/grey.jpg', await raw().toColourspace('b-w').jpeg(jpeg).toBuffer());
  const halves = rgbPixels(width, height, (x) => (x < width / 2 ? [255, 0, 0] : [0, 0, 255]));
  await put(
    'a/exif-rotated.jpg',
    await sharp(halves, { raw: { width, height, channels: 3 } })
      .jpeg(jpeg)
      .withMetadata({ orientation: 6 })
      .toBuffer(),
  );
  const rgba = new Uint8Array(width * height * 4);
  for (let p = 0; p < width * height; p++) {
    rgba.set(pixels.subarray(3 * p, 3 * p + 3), 4 * p);
    rgba[4 * p + 3] = p % 3 === 0 ? 0 : 128 + (p % 100);
  }
  await put(
    'b/alpha.png',
    await sharp(rgba, { raw: { width, height, channels: 4 } })
      .png()
      .toBuffer(),
  );
  const samples16 = new Uint16Array(width * height * 3);
  for (let i = 0; i < samples16.length; i++) samples16[i] = (i * 2741 + 13) % 65536;
  await put('b/png16.png', png16Bytes(width, height, samples16));
  await put('b/really-a-png.JPEG', await raw().png().toBuffer());
  const whole = await raw().jpeg(jpeg).toBuffer();
  await put('b/truncated.jpg', whole.subarray(0, Math.floor(whole.length / 2)));
  await put('b/text.jpg', Buffer.from('Not an image: a text file with a .jpg name.\n'));
  for (const dir of ['a', 'b']) {
    await put(`${dir}/.DS_Store`, Buffer.from([0, 0, 0, 1, 0x42, 0x75, 0x64, 0x31]));
    await put(`${dir}/._x.jpg`, Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]));
    await put(`${dir}/notes.txt`, Buffer.from('notes'));
  }
  await put('.ipynb_checkpoints/baseline-checkpoint.jpg', whole);
  return {
    pixels,
    samples16,
    rgba,
    bad: [join(root, 'b/text.jpg'), join(root, 'b/truncated.jpg')],
  };
}
