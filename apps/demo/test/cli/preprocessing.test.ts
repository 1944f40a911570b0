import { fileURLToPath } from 'node:url';
import { IMAGENET_CLASSES } from '@gpunet/alexnet';
import type { Image } from '@gpunet/data';
import { describe, expect, it } from 'vitest';
import { imageTransform } from '../../src/commands.js';
import { defaultConfig, readWeightsFile } from '../../src/model-file.js';

const PTH = fileURLToPath(
  new URL('../../../../packages/alexnet/fixtures/torchvision_small.pth', import.meta.url),
);

/** A `width` x `height` RGB image: columns left of `split` one colour, the rest another. */
function twoColours(width: number, height: number, split: number): Image {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      data.set(x < split ? [255, 0, 0] : [0, 0, 255], 3 * (y * width + x));
  return { data, width, height, channels: 3, layout: 'hwc' };
}

describe("ImageNet weights get torchvision's preprocessing", () => {
  it('a .pth without gpunet metadata: short side 256, centre 224, ImageNet mean and std, widths from the tensors', async () => {
    const { config, hasMetadata, tensors } = await readWeightsFile(PTH, { variant: 'torchvision' });
    for (const t of tensors.values()) t.dispose();
    expect(hasMetadata).toBe(false);
    expect(config).toMatchObject({
      model: {
        variant: 'torchvision',
        numClasses: 10,
        inputSize: 224,
        channels: [16, 48, 96, 64, 64],
        hidden: 128,
      },
      mean: [0.485, 0.456, 0.406],
      std: [0.229, 0.224, 0.225],
      resize: 256,
    });
    expect(config.classes.slice(0, 2)).toEqual(['class 0', 'class 1']);
  });

  it('1000 classes are named by IMAGENET_CLASSES; the paper model crops 227 from the 256 side', () => {
    const config = defaultConfig('paper');
    expect(config.classes).toEqual([...IMAGENET_CLASSES]);
    expect(config.classes[0]).toBe('tench, Tinca tinca');
    expect([config.resize, config.model.inputSize]).toEqual([256, 227]);
  });

  it('imageTransform resizes the short side to 256 and takes the centre crop, normalized', () => {
    // The paper model, 600x300 with red left of column 200. Short side 256: 512x256, the centre
    // 227 starts at column 142, the edge (170.7) falls at output column 28.7. The 8/7 rule
    // (259: 518x259, start 145, edge at 27.7) would make output column 28 blue.
    const out = imageTransform(defaultConfig('paper')).apply(
      twoColours(600, 300, 200),
      undefined as never,
    );
    if (Array.isArray(out)) throw new Error('one crop expected');
    expect([out.channels, out.height, out.width]).toEqual([3, 227, 227]);
    // Undo ImageNet's normalization of the red channel on row 100.
    const red = (x: number) => (out.data[100 * 227 + x] as number) * 0.229 + 0.485;
    expect(red(20)).toBeCloseTo(1, 4);
    expect(red(28)).toBeGreaterThan(0.6);
    expect(red(30)).toBeCloseTo(0, 4);
    expect(red(226)).toBeCloseTo(0, 4);
  });
});
