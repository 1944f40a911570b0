// Writes folders of @gpunet/data's generated shapes for the fine-tuning check: the shapes of
// chosen classes, each image's colour channels shuffled (one of the 6 orders, from its seed) so
// that colour says nothing and only the shape tells the class. Used by
// scripts/make-finetune-fixture.mjs and test/cli/finetune.test.ts.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SyntheticImages } from '@gpunet/data';
import sharp from 'sharp';

const ORDERS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

/**
 * Writes `root/<shape>/<i>.png` for each class index in `classes` (of SYNTHETIC_CLASSES: disk,
 * square, bars, diagonals, cross, ring, triangle, frame), `perClass` images each, `size` px,
 * drawn from `seed`. Resolves with the number of files written.
 */
export async function writeShapesFolder(root, { classes, perClass, size = 64, seed = 1 }) {
  const shapes = new SyntheticImages({ length: 8 * perClass, numClasses: 8, size, seed });
  let written = 0;
  for (let i = 0; i < shapes.length; i++) {
    if (!classes.includes(i % 8)) continue;
    const { image, label } = await shapes.read(i);
    const order = ORDERS[(i * 7 + seed) % 6];
    const pixels = new Uint8Array(image.data.length);
    for (let p = 0; p < size * size; p++)
      for (let c = 0; c < 3; c++) pixels[3 * p + c] = image.data[3 * p + order[c]];
    const dir = join(root, shapes.classes[label]);
    await mkdir(dir, { recursive: true });
    await sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
      .png()
      .toFile(join(dir, `${String(i).padStart(5, '0')}.png`));
    written++;
  }
  return written;
}
