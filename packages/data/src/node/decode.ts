import sharp from 'sharp';
import { DataError } from '../errors.js';
import type { EncodedImage, Image } from '../image.js';

/**
 * Decodes a JPEG, PNG (or any format libvips reads) to HWC uint8 RGB with sharp. Alpha is
 * dropped and greyscale expanded to three channels, as torchvision's loader converts to RGB.
 * Throws a DataError naming the file when the bytes are not a readable image.
 */
export async function decodeImage(image: EncodedImage): Promise<Image> {
  try {
    const { data, info } = await sharp(image.bytes, { failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { data: pixels, width: info.width, height: info.height, channels: 3, layout: 'hwc' };
  } catch (error) {
    const reason = error instanceof Error ? error.message.trim() : String(error);
    throw new DataError(
      image.source,
      `cannot decode image (${image.bytes.length} bytes): ${reason}`,
    );
  }
}
