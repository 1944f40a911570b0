import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ImageDataset } from '../dataset.js';
import { isEncoded } from '../dataset.js';
import { toTensorImage } from '../transforms/to-tensor.js';

/** `writeImageFolder` options. */
export interface WriteImageFolderOptions {
  /** File format (default 'jpeg'). */
  format?: 'jpeg' | 'png';
  /** JPEG quality 1..100 (default 90). */
  quality?: number;
}

/**
 * Writes a dataset's raw images as `root/<class>/<index>.jpg|png`, the layout `ImageFolder` reads:
 * e.g. `SyntheticImages` for a demo or benchmark. Returns the number of files written.
 */
export async function writeImageFolder(
  dataset: ImageDataset,
  root: string,
  options: WriteImageFolderOptions = {},
): Promise<number> {
  const format = options.format ?? 'jpeg';
  const digits = String(Math.max(dataset.length - 1, 0)).length;
  for (const name of dataset.classes) await mkdir(join(root, name), { recursive: true });
  for (let i = 0; i < dataset.length; i++) {
    const raw = await dataset.read(i);
    if (isEncoded(raw.image))
      throw new Error(`writeImageFolder: ${raw.source} is already encoded; copy the file instead`);
    let { data, width, height, channels, layout } = raw.image;
    if (layout !== 'hwc' || !(data instanceof Uint8Array)) {
      // sharp wants interleaved uint8: go through CHW float and back.
      const chw = toTensorImage(raw.image);
      const plane = width * height;
      data = new Uint8Array(plane * channels);
      for (let p = 0; p < plane; p++)
        for (let c = 0; c < channels; c++)
          data[p * channels + c] = Math.round(chw.data[c * plane + p] * 255);
      layout = 'hwc';
    }
    const image = sharp(data, { raw: { width, height, channels: channels as 1 | 2 | 3 | 4 } });
    const bytes =
      format === 'jpeg'
        ? await image.jpeg({ quality: options.quality ?? 90 }).toBuffer()
        : await image.png().toBuffer();
    const file = `${String(i).padStart(digits, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`;
    await writeFile(join(root, dataset.classes[raw.label], file), bytes);
  }
  return dataset.length;
}
