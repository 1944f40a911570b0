import {
  checkIndex,
  getTransformed,
  type ImageDataset,
  type ImageDecoder,
  type RawSample,
  type Sample,
  type SampleContext,
} from './dataset.js';
import { DataError } from './errors.js';
import type { Transform } from './transform.js';

/** CIFAR-10's class names, in label order (`batches.meta.txt`). */
export const CIFAR10_CLASSES: readonly string[] = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

/** Bytes per CIFAR-10 binary record: 1 label byte, then 32x32 red, green and blue planes. */
export const CIFAR10_RECORD_BYTES = 1 + 3 * 32 * 32;

/** One CIFAR-10 binary batch file's bytes, with its name for errors. */
export interface CifarBatchFile {
  bytes: Uint8Array;
  source: string;
}

/** `Cifar10Dataset` options. */
export interface Cifar10Options {
  transform?: Transform;
  classes?: readonly string[];
}

const noDecode: ImageDecoder = (image) =>
  Promise.reject(new DataError(image.source, 'CIFAR samples are never encoded'));

/**
 * CIFAR-10 from binary batch files (`data_batch_1.bin` .. `test_batch.bin`): each 3073-byte
 * record is a label byte and a 3x32x32 CHW uint8 image. A file that is not a whole number of
 * records is an error naming it; a label outside the classes is a per-sample DataError.
 */
export class Cifar10Dataset implements ImageDataset {
  readonly classes: readonly string[];
  readonly transform: Transform | undefined;
  private readonly records: { file: CifarBatchFile; offset: number; record: number }[] = [];

  constructor(files: readonly CifarBatchFile[], options: Cifar10Options = {}) {
    this.classes = options.classes ?? CIFAR10_CLASSES;
    this.transform = options.transform;
    for (const file of files) {
      const { length } = file.bytes;
      if (length === 0 || length % CIFAR10_RECORD_BYTES !== 0) {
        throw new DataError(
          file.source,
          `CIFAR-10 batch is truncated or not a CIFAR-10 binary batch: ${length} bytes is not a whole number of ${CIFAR10_RECORD_BYTES}-byte records`,
        );
      }
      for (let r = 0; r < length / CIFAR10_RECORD_BYTES; r++)
        this.records.push({ file, offset: r * CIFAR10_RECORD_BYTES, record: r });
    }
  }

  /** Number of samples. */
  get length(): number {
    return this.records.length;
  }

  /** The record's CHW uint8 pixels (a copy) and label. */
  async read(index: number): Promise<RawSample> {
    checkIndex('Cifar10', index, this.records.length);
    const { file, offset, record } = this.records[index];
    const source = `${file.source}#${record}`;
    const label = file.bytes[offset];
    if (label >= this.classes.length) {
      throw new DataError(
        source,
        `label ${label} is out of range for ${this.classes.length} classes (0..${this.classes.length - 1})`,
      );
    }
    const data = file.bytes.slice(offset + 1, offset + CIFAR10_RECORD_BYTES);
    return { image: { data, width: 32, height: 32, channels: 3, layout: 'chw' }, label, source };
  }

  /** The transformed sample; its augmentation is fixed by `context` (seed, epoch). */
  get(index: number, context?: SampleContext): Promise<Sample> {
    return getTransformed(this, index, context, noDecode);
  }
}
