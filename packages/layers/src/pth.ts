/**
 * Reads PyTorch checkpoints written by `torch.save(model.state_dict(), path)` (PyTorch 1.6+ zip
 * format): a zip holding `<name>/data.pkl` (the pickled dict, read by the restricted reader in
 * pickle.ts) and `<name>/data/<key>` (each storage's raw little-endian bytes).
 */
import { type Tensor, tensor } from '@gpunet/tensor';
import { unzipSync } from 'fflate';
import { decodeElements, STORED_DTYPES, type StoredDType } from './internal/storage-dtype.js';
import { type PickleValue, readPickle, type TensorRef } from './pickle.js';
import { type WeightsFile, WeightsFormatError } from './weights-file.js';

/** Options of `readPth`. */
export interface ReadPthOptions {
  /**
   * What to do with int64 tensors (e.g. BatchNorm's `num_batches_tracked`): 'int32' converts
   * them (an error names the key if a value does not fit), 'skip' leaves them out and lists them
   * in `skipped`. Default 'int32'.
   */
  int64?: 'int32' | 'skip';
}

const STORAGE_DTYPES: Record<string, StoredDType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  IntStorage: 'int32',
  LongStorage: 'int64',
};

function isTensorRef(v: PickleValue): v is TensorRef {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Map) &&
    !(v instanceof Uint8Array) &&
    v.kind === 'tensor'
  );
}

/**
 * Reads a `.pth`/`.pt` state dict's bytes into tensors keyed as in PyTorch, so a torchvision
 * checkpoint loads unchanged with `model.loadStateDict(readPth(bytes).tensors)`. float32 and
 * int32 load as they are, float64/float16/bfloat16 become float32, int64 becomes int32 (or is
 * skipped, see `options.int64`); other dtypes throw naming the key. Views with any strides and
 * storage offsets are gathered into contiguous tensors. Works in Node and the browser.
 *
 * The pickle is read like `torch.load(weights_only=True)`: only what a state dict needs is
 * accepted and nothing is executed; any other global or opcode throws naming it.
 */
export function readPth(bytes: Uint8Array, options: ReadPthOptions = {}): WeightsFile {
  const int64 = options.int64 ?? 'int32';
  if (bytes.byteLength >= 2 && bytes[0] === 0x80 && bytes[1] === 0x02) {
    throw new WeightsFormatError(
      'pth: this is the legacy (pre-1.6) torch.save format; re-save it with a newer PyTorch (torch.save(torch.load(p), p))',
    );
  }
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    throw new WeightsFormatError(
      `pth: not a readable zip archive (${(error as Error).message}); truncated or corrupt file?`,
    );
  }
  const pickleName = Object.keys(files).find(
    (name) => name.endsWith('/data.pkl') || name === 'data.pkl',
  );
  if (!pickleName) {
    throw new WeightsFormatError(
      `pth: the archive has no data.pkl (entries: ${Object.keys(files).slice(0, 5).join(', ')})`,
    );
  }
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  const byteorder = files[`${prefix}byteorder`];
  if (byteorder && new TextDecoder().decode(byteorder).trim() !== 'little') {
    throw new WeightsFormatError(
      'pth: the storages are big-endian; only little-endian files are supported',
    );
  }
  const root = readPickle(files[pickleName], pickleName);
  if (!(root instanceof Map)) {
    throw new WeightsFormatError(
      `pth: ${pickleName} holds a ${Array.isArray(root) ? 'list' : typeof root}, not a state dict`,
    );
  }
  const result: WeightsFile = { tensors: new Map(), skipped: [], metadata: {} };
  try {
    for (const [key, value] of root) {
      const name = String(key);
      if (!isTensorRef(value)) {
        result.skipped.push({ key: name, reason: 'not a tensor' });
        continue;
      }
      const stored = STORAGE_DTYPES[value.storage.storageType];
      if (!stored) {
        throw new WeightsFormatError(
          `pth: tensor '${name}' [${value.shape.join(', ')}] is stored as ${value.storage.storageType}, which gpunet does not read ` +
            `(supported: ${Object.keys(STORAGE_DTYPES).join(', ')})`,
        );
      }
      if (stored === 'int64' && int64 === 'skip') {
        result.skipped.push({ key: name, reason: 'int64 tensor skipped (int64: "skip")' });
        continue;
      }
      result.tensors.set(
        name,
        materialize(name, value, stored, files[`${prefix}data/${value.storage.key}`]),
      );
    }
  } catch (error) {
    for (const t of result.tensors.values()) t.dispose();
    throw error;
  }
  return result;
}

/** Gathers a (possibly strided, offset) view of a storage into a contiguous tensor. */
function materialize(
  key: string,
  ref: TensorRef,
  stored: StoredDType,
  storage: Uint8Array | undefined,
): Tensor {
  const { shape, stride, storageOffset } = ref;
  const where = `pth: tensor '${key}' [${shape.join(', ')}]`;
  if (!storage)
    throw new WeightsFormatError(
      `${where}: its storage data/${ref.storage.key} is missing from the archive`,
    );
  const itemBytes = STORED_DTYPES[stored].bytes;
  const available = Math.floor(storage.byteLength / itemBytes);
  if (shape.length !== stride.length)
    throw new WeightsFormatError(`${where}: stride [${stride.join(', ')}] has another rank`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > 0) {
    let last = storageOffset;
    for (let d = 0; d < shape.length; d++) last += (shape[d] - 1) * stride[d];
    if (storageOffset < 0 || last >= available || stride.some((s) => s < 0)) {
      throw new WeightsFormatError(
        `${where} with offset ${storageOffset} and stride [${stride.join(', ')}] reaches element ${last} but storage ` +
          `data/${ref.storage.key} holds ${available} (truncated or corrupt?)`,
      );
    }
  }
  let contiguous = true;
  for (let d = shape.length - 1, expected = 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== expected) contiguous = false;
    expected *= shape[d];
  }
  let index: (i: number) => number;
  if (contiguous) index = (i) => storageOffset + i;
  else {
    // Row-major walk over the view: element i's multi-index dotted with the strides.
    const rank = shape.length;
    index = (i) => {
      let offset = storageOffset;
      for (let d = rank - 1; d >= 0; d--) {
        offset += (i % shape[d]) * stride[d];
        i = Math.floor(i / shape[d]);
      }
      return offset;
    };
  }
  return tensor(decodeElements(storage, stored, count, index, `pth: tensor '${key}'`), shape);
}
