import { describeImage, type Image } from '../image.js';

/** Throws unless `image` holds float32 values (what `toTensor` produces). */
export function requireFloat(op: string, image: Image): Float32Array {
  if (!(image.data instanceof Float32Array)) {
    throw new TypeError(
      `${op}: expects a float32 image (apply toTensor first), got ${describeImage(image)}`,
    );
  }
  return image.data;
}

/** Throws unless `values` has one entry per channel of `image`. */
export function requirePerChannel(
  op: string,
  field: string,
  values: readonly number[],
  image: Image,
): void {
  if (values.length !== image.channels) {
    throw new RangeError(
      `${op}: ${field} has ${values.length} values but the image has ${image.channels} channels (${describeImage(image)})`,
    );
  }
}
