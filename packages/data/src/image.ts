/**
 * The small image type every transform works on: a typed array plus its geometry, so transforms
 * run on worker threads without tensors (collate makes the tensors).
 */

/** Pixel order: `hwc` is interleaved (as decoders produce it), `chw` is planar (as tensors hold it). */
export type ImageLayout = 'hwc' | 'chw';

/** An image in memory: uint8 pixels in 0..255 or float32 values (usually [0, 1] after `toTensor`). */
export interface Image {
  data: Uint8Array | Float32Array;
  width: number;
  height: number;
  channels: number;
  layout: ImageLayout;
}

/** An image still in its file format (JPEG, PNG), with the file it came from for error messages. */
export interface EncodedImage {
  bytes: Uint8Array;
  /** Where the bytes came from (a path or URL); errors name it. */
  source: string;
}

/** Element strides of an image's data along x, y and channel. */
export interface ImageStrides {
  x: number;
  y: number;
  c: number;
}

/** Creates an image, checking that `data` holds exactly `height * width * channels` values. */
export function createImage(
  data: Uint8Array | Float32Array,
  width: number,
  height: number,
  channels: number,
  layout: ImageLayout = 'hwc',
): Image {
  for (const [name, v] of [
    ['width', width],
    ['height', height],
    ['channels', channels],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`createImage: ${name} must be a positive integer, got ${v}`);
  }
  const expected = width * height * channels;
  if (data.length !== expected) {
    throw new RangeError(
      `createImage: ${data.length} values cannot fill a ${height}x${width}x${channels} (HxWxC) image (${expected} values)`,
    );
  }
  return { data, width, height, channels, layout };
}

/** Element strides of `image.data` for its layout. */
export function stridesOf(image: Image): ImageStrides {
  return image.layout === 'hwc'
    ? { x: image.channels, y: image.width * image.channels, c: 1 }
    : { x: 1, y: image.width, c: image.width * image.height };
}

/** A new empty image with the same dtype, channels and layout as `like`. */
export function emptyLike(like: Image, width: number, height: number): Image {
  const size = width * height * like.channels;
  const data = like.data instanceof Uint8Array ? new Uint8Array(size) : new Float32Array(size);
  return { data, width, height, channels: like.channels, layout: like.layout };
}

/** `HxWxC` with the layout, for error messages. */
export function describeImage(image: Image): string {
  const dtype = image.data instanceof Uint8Array ? 'uint8' : 'float32';
  return `${image.height}x${image.width}x${image.channels} (HxWxC) ${dtype} ${image.layout}`;
}
