/**
 * Images in and out of the page: any image the browser decodes becomes the model's input with
 * the same transforms the CLI applies (@gpunet/data's resize, centre crop, normalize), and
 * activations and filters are drawn as tiles.
 */

import type { Pixels } from '@gpunet/alexnet';
import {
  centerCrop,
  compose,
  createImage,
  decodeImage,
  type Image,
  normalize,
  resize,
  toTensor,
} from '@gpunet/data';
import { Generator } from '@gpunet/tensor';
import { type ModelSpec, resizeSide } from './spec.js';

/** Decodes image bytes (PNG, JPEG, WebP...) to HWC uint8 RGB; the error names the file. */
export async function decode(bytes: Uint8Array, name: string): Promise<Image> {
  try {
    return await decodeImage({ bytes, source: name });
  } catch {
    throw new Error(
      `${name} (${bytes.byteLength} bytes) is not an image this browser can decode (expected a PNG, JPEG, WebP or GIF)`,
    );
  }
}

/** The pixels of a canvas as an HWC uint8 RGB image. */
export function canvasImage(canvas: HTMLCanvasElement): Image {
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D canvas');
  const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
  const rgb = new Uint8Array(canvas.width * canvas.height * 3);
  for (let p = 0, q = 0; p < data.length; p += 4, q += 3) {
    rgb[q] = data[p];
    rgb[q + 1] = data[p + 1];
    rgb[q + 2] = data[p + 2];
  }
  return createImage(rgb, canvas.width, canvas.height, 3);
}

/**
 * The model's input `[C, H, W]` for an image: grey models get the mean of R, G and B (rounded,
 * as the CLI's `predict` does), then resize (shorter side), centre crop and normalize as the
 * spec says: the CLI's `imageTransform`, so the page and `gpunet predict` see the same values.
 */
export function toInput(image: Image, spec: ModelSpec): Float32Array {
  let source = image;
  if (spec.model.inChannels === 1 && image.channels === 3) {
    const grey = new Uint8Array(image.width * image.height);
    for (let p = 0; p < grey.length; p++) {
      grey[p] = Math.round((image.data[3 * p] + image.data[3 * p + 1] + image.data[3 * p + 2]) / 3);
    }
    source = createImage(grey, image.width, image.height, 1);
  }
  const size = spec.model.inputSize;
  const transform = compose([
    resize(resizeSide(spec)),
    centerCrop(size),
    toTensor(),
    normalize({ mean: spec.mean, std: spec.std }),
  ]);
  const out = transform.apply(source, new Generator(0));
  if (Array.isArray(out)) throw new Error('the transform made several crops');
  return out.data as Float32Array;
}

/** Draws a model input `[C, H, W]` back as pixels (undoing the normalization) on a canvas. */
export function drawInput(canvas: HTMLCanvasElement, values: Float32Array, spec: ModelSpec): void {
  const side = spec.model.inputSize;
  const channels = spec.model.inChannels;
  const scratch = document.createElement('canvas');
  scratch.width = side;
  scratch.height = side;
  const context = scratch.getContext('2d');
  const target = canvas.getContext('2d');
  if (!context || !target) return;
  const pixels = context.createImageData(side, side);
  const plane = side * side;
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const k = channels === 1 ? 0 : c;
      const value = values[k * plane + p] * spec.std[k] + spec.mean[k];
      pixels.data[4 * p + c] = Math.round(Math.min(1, Math.max(0, value)) * 255);
    }
    pixels.data[4 * p + 3] = 255;
  }
  context.putImageData(pixels, 0, 0);
  target.imageSmoothingEnabled = !(side < canvas.width / 2);
  target.clearRect(0, 0, canvas.width, canvas.height);
  target.drawImage(scratch, 0, 0, canvas.width, canvas.height);
}

/** Puts an RGBA picture (`@gpunet/alexnet`'s `Pixels`) on `canvas`, at its own size. */
export function putPixels(canvas: HTMLCanvasElement, pixels: Pixels): void {
  canvas.width = pixels.width;
  canvas.height = pixels.height;
  const data = new Uint8ClampedArray(pixels.rgba);
  canvas.getContext('2d')?.putImageData(new ImageData(data, pixels.width, pixels.height), 0, 0);
}

/**
 * A digit drawn on `pad` (white on black) as MNIST frames its digits: the strokes' bounding box
 * scaled to fit 20x20, centred by its centre of mass in a 28x28 image.
 */
export function mnistFromPad(pad: HTMLCanvasElement): HTMLCanvasElement | null {
  const { width, height } = pad;
  const context = pad.getContext('2d', { willReadFrequently: true });
  if (!context) return null;
  const { data } = context.getImageData(0, 0, width, height);
  let [left, top, right, bottom] = [width, height, -1, -1];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[4 * (y * width + x)] > 32) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  if (right < 0) return null;
  const box = Math.max(right - left + 1, bottom - top + 1);
  const scale = 20 / box;
  const small = document.createElement('canvas');
  small.width = 28;
  small.height = 28;
  const out = small.getContext('2d', { willReadFrequently: true });
  if (!out) return null;
  out.fillStyle = '#000';
  out.fillRect(0, 0, 28, 28);
  const w = (right - left + 1) * scale;
  const h = (bottom - top + 1) * scale;
  out.drawImage(
    pad,
    left,
    top,
    right - left + 1,
    bottom - top + 1,
    (28 - w) / 2,
    (28 - h) / 2,
    w,
    h,
  );
  // Shift so that the centre of mass sits at the centre, as MNIST's digits do.
  const pixels = out.getImageData(0, 0, 28, 28).data;
  let [mass, mx, my] = [0, 0, 0];
  for (let p = 0; p < 28 * 28; p++) {
    const v = pixels[4 * p];
    mass += v;
    mx += v * (p % 28);
    my += v * Math.floor(p / 28);
  }
  if (mass === 0) return null;
  const dx = Math.round(13.5 - mx / mass);
  const dy = Math.round(13.5 - my / mass);
  const shifted = document.createElement('canvas');
  shifted.width = 28;
  shifted.height = 28;
  const final = shifted.getContext('2d', { willReadFrequently: true });
  if (!final) return null;
  final.fillStyle = '#000';
  final.fillRect(0, 0, 28, 28);
  final.drawImage(small, dx, dy);
  return shifted;
}
