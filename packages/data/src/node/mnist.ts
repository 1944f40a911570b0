import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';
import { type IdxArray, isGzip, parseIdx } from '../idx.js';
import { IdxDataset, type IdxDatasetOptions } from '../idx-dataset.js';

/** Reads and parses an IDX file, gunzipping it first when it starts with the gzip magic 1f 8b. */
export function readIdxFile(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError(
      path,
      `cannot read IDX file (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw new DataError(
        path,
        `corrupt gzip data: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  return parseIdx(bytes, path);
}

/** `Mnist` options. */
export interface MnistOptions extends IdxDatasetOptions {
  /** The 60,000 training images (`train-*`, default) or the 10,000 test images (`t10k-*`). */
  train?: boolean;
}

function findFile(root: string, name: string): string {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(root, candidate);
    if (existsSync(path)) return path;
  }
  throw new DataError(join(root, name), 'IDX file not found (also tried .gz)');
}

/**
 * MNIST (or Fashion-MNIST) from LeCun's IDX files in `root`: `train-images-idx3-ubyte` and
 * `train-labels-idx1-ubyte`, or `t10k-*` for the test set, each optionally gzipped (`.gz`).
 * Images are 28x28 1-channel uint8; files are read whole when constructed.
 */
export class Mnist extends IdxDataset {
  constructor(root: string, options: MnistOptions = {}) {
    const prefix = (options.train ?? true) ? 'train' : 't10k';
    const images = findFile(root, `${prefix}-images-idx3-ubyte`);
    const labels = findFile(root, `${prefix}-labels-idx1-ubyte`);
    super(readIdxFile(images), readIdxFile(labels), { images, labels }, options);
  }
}
