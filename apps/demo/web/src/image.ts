/**
 * Images in and out of the page: any image the browser decodes becomes the model's input, and
 * activations and filters are drawn as grey tiles.
 */

/**
 * The pixel encoding of the bundled samples (web/scripts/make-checkpoint.mjs): value =
 * grey / 85 - 1, so 8-bit grey 0..255 covers the training images' range -1..2 (bar 1 on
 * Gaussian noise around 0).
 */
export function greyToValue(grey: number): number {
  return grey / 85 - 1;
}

/** Decodes an image (file or URL), scales it to `side` x `side` and returns its values. */
export async function loadImage(
  source: Blob | string,
  side: number,
): Promise<{ values: Float32Array; preview: HTMLCanvasElement }> {
  const blob = typeof source === 'string' ? await (await fetch(source)).blob() : source;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`not an image the browser can decode (${blob.type || 'unknown type'})`);
  }
  const canvas = document.createElement('canvas');
  canvas.width = side;
  canvas.height = side;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('this browser gives no 2D canvas');
  context.drawImage(bitmap, 0, 0, side, side);
  const { data } = context.getImageData(0, 0, side, side);
  const values = new Float32Array(side * side);
  for (let p = 0; p < values.length; p++) {
    values[p] = greyToValue((data[4 * p] + data[4 * p + 1] + data[4 * p + 2]) / 3);
  }
  return { values, preview: canvas };
}

/**
 * Draws `count` planes of `height` x `width` values (one after another in `data`) as a grid of
 * grey tiles, each scaled to its own min..max, `scale` screen pixels per value.
 */
export function drawTiles(
  canvas: HTMLCanvasElement,
  data: Float32Array,
  count: number,
  height: number,
  width: number,
  scale: number,
): void {
  const columns = Math.min(count, 16);
  const rows = Math.ceil(count / columns);
  const gap = 2;
  canvas.width = columns * (width * scale + gap);
  canvas.height = rows * (height * scale + gap);
  const context = canvas.getContext('2d');
  if (!context) return;
  context.fillStyle = '#fff';
  context.fillRect(0, 0, canvas.width, canvas.height);
  const plane = height * width;
  for (let t = 0; t < count; t++) {
    const values = data.subarray(t * plane, (t + 1) * plane);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    const range = max - min || 1;
    const x0 = (t % columns) * (width * scale + gap);
    const y0 = Math.floor(t / columns) * (height * scale + gap);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const grey = Math.round(((values[y * width + x] - min) / range) * 255);
        context.fillStyle = `rgb(${grey},${grey},${grey})`;
        context.fillRect(x0 + x * scale, y0 + y * scale, scale, scale);
      }
    }
  }
}
