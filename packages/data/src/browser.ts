/**
 * @gpunet/data for the browser: the same datasets that need no file system, the DataLoader
 * (in-process), decoding with createImageBitmap, and AlexNet's transforms. No Node modules.
 */

export { DataLoader } from './browser/data-loader.js';
export { decodeImage } from './browser/decode.js';
export * from './common.js';
