import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Cifar10Dataset, type Cifar10Options } from '../cifar10.js';
import { DataError } from '../errors.js';

/** `Cifar10` options. */
export interface Cifar10FilesOptions extends Cifar10Options {
  /** The five training batches (default) or `test_batch.bin`. */
  train?: boolean;
}

/**
 * CIFAR-10 from the binary version's folder: `root` is `cifar-10-batches-bin` or its parent.
 * Reads `data_batch_1.bin`..`data_batch_5.bin` (train) or `test_batch.bin`, and the class names
 * from `batches.meta.txt` when present.
 */
export class Cifar10 extends Cifar10Dataset {
  constructor(root: string, options: Cifar10FilesOptions = {}) {
    const dir = existsSync(join(root, 'cifar-10-batches-bin'))
      ? join(root, 'cifar-10-batches-bin')
      : root;
    const names =
      (options.train ?? true)
        ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`)
        : ['test_batch.bin'];
    const files = names.map((name) => {
      const source = join(dir, name);
      try {
        return { bytes: readFileSync(source), source };
      } catch (error) {
        throw new DataError(
          source,
          `cannot read CIFAR-10 batch (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        );
      }
    });
    const meta = join(dir, 'batches.meta.txt');
    const classes =
      options.classes ??
      (existsSync(meta)
        ? readFileSync(meta, 'utf8')
            .split('\n')
            .map((s) => s.trim())
            .filter(Boolean)
        : undefined);
    super(files, { ...options, classes });
  }
}
