import { DataError } from '../errors.js';
import type { EncodedImage, Image } from '../image.js';

// The DOM types this needs, declared here: the package compiles without lib.dom.
interface BitmapLike {
  width: number;
  height: number;
  close(): void;
}
interface Context2dLike {
  drawImage(image: BitmapLike, x: number, y: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
}
interface BrowserGlobals {
  createImageBitmap(blob: Blob): Promise<BitmapLike>;
  OffscreenCanvas: new (w: number, h: number) => { getContext(kind: '2d'): Context2dLike | null };
}

/**
 * Decodes a JPEG or PNG to HWC uint8 RGB in the browser (or a worker) with `createImageBitmap`
 * and an `OffscreenCanvas`; alpha is dropped. Throws a DataError naming the source.
 */
export async function decodeImage(image: EncodedImage): Promise<Image> {
  const g = globalThis as unknown as Partial<BrowserGlobals>;
  if (!g.createImageBitmap || !g.OffscreenCanvas) {
    throw new DataError(
      image.source,
      'cannot decode: createImageBitmap and OffscreenCanvas are not available here',
    );
  }
  let bitmap: BitmapLike;
  try {
    bitmap = await g.createImageBitmap(new Blob([image.bytes as Uint8Array<ArrayBuffer>]));
  } catch (error) {
    throw new DataError(
      image.source,
      `cannot decode image (${image.bytes.length} bytes): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const { width, height } = bitmap;
  const context = new g.OffscreenCanvas(width, height).getContext('2d');
  if (!context)
    throw new DataError(image.source, 'cannot decode: no 2d context on OffscreenCanvas');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, q = 0; p < rgba.length; p += 4, q += 3) {
    data[q] = rgba[p];
    data[q + 1] = rgba[p + 1];
    data[q + 2] = rgba[p + 2];
  }
  return { data, width, height, channels: 3, layout: 'hwc' };
}
