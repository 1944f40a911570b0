import { describeImage, emptyLike, type Image, stridesOf } from '../image.js';

/** A crop size: one number for a square, or `[height, width]`. */
export type CropSize = number | [number, number];

/** `[height, width]` of a crop size, checked to be positive integers. */
export function cropDims(op: string, size: CropSize): [number, number] {
  const [h, w] = Array.isArray(size) ? size : [size, size];
  if (!Number.isInteger(h) || !Number.isInteger(w) || h <= 0 || w <= 0) {
    throw new RangeError(
      `${op}: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`,
    );
  }
  return [h, w];
}

/** Throws unless a `height` x `width` crop fits in `image`. */
export function checkCropFits(op: string, image: Image, height: number, width: number): void {
  if (height > image.height || width > image.width) {
    throw new RangeError(
      `${op}: crop ${height}x${width} (HxW) is larger than the image ${describeImage(image)}`,
    );
  }
}

/** Copies the `height` x `width` window whose top-left pixel is (`top`, `left`). */
export function cropImage(
  image: Image,
  top: number,
  left: number,
  height: number,
  width: number,
): Image {
  if (top < 0 || left < 0 || top + height > image.height || left + width > image.width) {
    throw new RangeError(
      `crop: window top=${top} left=${left} ${height}x${width} (HxW) does not fit in image ${describeImage(image)}`,
    );
  }
  const out = emptyLike(image, width, height);
  const s = stridesOf(image);
  const d = stridesOf(out);
  // Rows are contiguous runs in both layouts (a whole pixel row in hwc, a channel row in chw).
  const planes = image.layout === 'hwc' ? 1 : image.channels;
  const run = image.layout === 'hwc' ? width * image.channels : width;
  for (let c = 0; c < planes; c++) {
    for (let y = 0; y < height; y++) {
      const from = c * s.c + (top + y) * s.y + left * s.x;
      out.data.set(image.data.subarray(from, from + run), c * d.c + y * d.y);
    }
  }
  return out;
}
