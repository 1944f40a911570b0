import type { Generator } from '@gpunet/tensor';
import { describeImage, emptyLike, type Image, stridesOf } from '../image.js';
import type { Transform } from '../transform.js';

/** `resize` options: `size` is the shorter side's new length, or an exact `[height, width]`. */
export interface ResizeOptions {
  size: number | [number, number];
}

/**
 * The output size of `resize`: an exact `[height, width]`, or the shorter side scaled to `size`
 * and the longer side to `floor(size * long / short)` (torchvision's rule).
 */
export function resizeOutputSize(
  height: number,
  width: number,
  size: number | [number, number],
): [number, number] {
  if (Array.isArray(size)) return [size[0], size[1]];
  if (height <= width) return [size, Math.floor((size * width) / height)];
  return [Math.floor((size * height) / width), size];
}

interface AxisWeights {
  /** First input index for each output index. */
  start: Int32Array;
  /** Number of input taps for each output index. */
  count: Int32Array;
  /** `maxTaps` normalised weights per output index. */
  weights: Float32Array;
  maxTaps: number;
}

// Bilinear (triangle) filter widened by the scale when shrinking, so downscaling averages every
// input pixel instead of aliasing: the same scheme as Pillow's `Image.resize(BILINEAR)`, which
// torchvision's `Resize` uses on PIL images. Pixel centres sit at i + 0.5.
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    let total = 0;
    for (let x = lo; x < hi; x++) {
      const w = Math.max(0, 1 - Math.abs((x - center + 0.5) / filterScale));
      weights[i * maxTaps + x - lo] = w;
      total += w;
    }
    for (let k = 0; k < hi - lo; k++) weights[i * maxTaps + k] /= total;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, maxTaps };
}

/** Resizes `image` to exactly `height` x `width` with an antialiased bilinear filter. */
export function resizeImage(image: Image, height: number, width: number): Image {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new RangeError(
      `resize: output size must be positive integers, got ${height}x${width} (HxW) for image ${describeImage(image)}`,
    );
  }
  if (height === image.height && width === image.width) return image;
  const { channels } = image;
  const src = stridesOf(image);
  const wx = axisWeights(image.width, width);
  const wy = axisWeights(image.height, height);
  // Horizontal pass into a float HWC buffer of image.height x width.
  const mid = new Float32Array(image.height * width * channels);
  const input = image.data;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      const s = wx.start[x];
      const n = wx.count[x];
      const wo = x * wx.maxTaps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        let p = y * src.y + s * src.x + c * src.c;
        for (let k = 0; k < n; k++, p += src.x) acc += input[p] * wx.weights[wo + k];
        mid[(y * width + x) * channels + c] = acc;
      }
    }
  }
  const out = emptyLike(image, width, height);
  const dst = stridesOf(out);
  const isUint8 = out.data instanceof Uint8Array;
  const rowStride = width * channels;
  for (let y = 0; y < height; y++) {
    const s = wy.start[y];
    const n = wy.count[y];
    const wo = y * wy.maxTaps;
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        let p = s * rowStride + x * channels + c;
        for (let k = 0; k < n; k++, p += rowStride) acc += mid[p] * wy.weights[wo + k];
        // Uint8Array would truncate and wrap: round and clamp explicitly.
        out.data[y * dst.y + x * dst.x + c * dst.c] = isUint8
          ? Math.min(255, Math.max(0, Math.round(acc)))
          : acc;
      }
    }
  }
  return out;
}

/**
 * Resizes so the shorter side is `size` (keeping the aspect ratio), or to an exact
 * `[height, width]` (torchvision `Resize`, bilinear with antialiasing). The paper rescales the
 * shorter side to 256 before cropping.
 */
export function resize(size: number | [number, number]): Transform {
  const sizes = Array.isArray(size) ? size : [size];
  if (sizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new RangeError(
      `resize: size must be a positive integer or [height, width], got ${JSON.stringify(size)}`,
    );
  }
  const options: ResizeOptions = { size };
  return {
    name: 'resize',
    options: { ...options },
    apply(image: Image, _random: Generator): Image {
      const [h, w] = resizeOutputSize(image.height, image.width, size);
      return resizeImage(image, h, w);
    },
  };
}
