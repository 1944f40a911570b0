import sharp from 'sharp';
import { DataError } from '../errors.js';
import type { EncodedImage, Image } from '../image.js';

/**
 * Decodes a JPEG, PNG (or any format libvips reads, recognized by its bytes, not the file's
 * extension) to HWC uint8 RGB with sharp, as torchvision's loader converts to RGB: greyscale is
 * expanded to three channels, CMYK converted to sRGB, 16-bit samples reduced to 8 bits and alpha
 * dropped (not composited, as PIL's `convert('RGB')`). Unlike PIL, the EXIF orientation is
 * applied, so a phone photo is upright. Throws a DataError naming the file, with libvips's
 * reason, when the bytes are not a readable image (truncated, corrupt, not an image).
 */
export async function decodeImage(image: EncodedImage): Promise<Image> {
  try {
    const { data, info } = await sharp(image.bytes, { failOn: 'error' })
      .autoOrient()
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    const pixels = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { data: pixels, width: info.width, height: info.height, channels: 3, layout: 'hwc' };
  } catch (error) {
    // libvips's detail after 'corrupt header:' is kept per thread and can come back empty.
    const reason = (error instanceof Error ? error.message : String(error))
      .trim()
      .replace(/:$/, '');
    throw new DataError(
      image.source,
      `cannot decode image (${image.bytes.length} bytes): ${reason}`,
    );
  }
}
