/**
 * Reads PyTorch checkpoints written by `torch.save(model.state_dict(), path)`: the zip format of
 * PyTorch 1.6+ (`<name>/data.pkl`, the pickled dict read by the restricted reader in pickle.ts,
 * and `<name>/data/<key>`, each storage's raw little-endian bytes) and the legacy format before it.
 */
import { type Tensor, tensor } from '@gpunet/tensor';
import { unzipSync } from 'fflate';
import { decodeElements, STORED_DTYPES, type StoredDType } from './internal/storage-dtype.js';
import { type PickleValue, readPickle, readPickleAt, type TensorRef } from './pickle.js';
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
 * storage offsets are gathered into contiguous tensors. Both the zip format (PyTorch 1.6+) and the
 * legacy one (older checkpoints, `_use_new_zipfile_serialization=False`) are read. Works in Node
 * and the browser.
 *
 * The pickle is read like `torch.load(weights_only=True)`: only what a state dict needs is
 * accepted and nothing is executed; any other global or opcode throws naming it.
 */
export function readPth(bytes: Uint8Array, options: ReadPthOptions = {}): WeightsFile {
  const int64 = options.int64 ?? 'int32';
  const { root, storage, pickleName } = bytes[0] === 0x80 ? openLegacy(bytes) : openZip(bytes);
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
      result.tensors.set(name, materialize(name, value, stored, storage(value.storage.key)));
    }
  } catch (error) {
    for (const t of result.tensors.values()) t.dispose();
    throw error;
  }
  return result;
}

interface OpenedCheckpoint {
  /** The unpickled object. */
  root: PickleValue;
  /** The raw bytes of a storage by key, or undefined when the file lacks it. */
  storage: (key: string) => Uint8Array | undefined;
  /** Where the pickle came from, for messages. */
  pickleName: string;
}

/** PyTorch 1.6+: a zip of `<name>/data.pkl` and `<name>/data/<key>`. */
function openZip(bytes: Uint8Array): OpenedCheckpoint {
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
  return {
    root: readPickle(files[pickleName], pickleName),
    storage: (key) => files[`${prefix}data/${key}`],
    pickleName,
  };
}

// torch/serialization.py's MAGIC_NUMBER and PROTOCOL_VERSION of the legacy format.
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001;

const ELEMENT_SIZES: Record<string, number> = {
  FloatStorage: 4,
  DoubleStorage: 8,
  HalfStorage: 2,
  BFloat16Storage: 2,
  LongStorage: 8,
  IntStorage: 4,
  ShortStorage: 2,
  CharStorage: 1,
  ByteStorage: 1,
  BoolStorage: 1,
};

/**
 * The legacy format (`_use_new_zipfile_serialization=False`, and every file saved before PyTorch
 * 1.6, such as older torchvision checkpoints): pickles of the magic number, the protocol version,
 * system info, the object, and the sorted storage keys, then each storage as an int64 element
 * count followed by its raw bytes.
 */
function openLegacy(bytes: Uint8Array): OpenedCheckpoint {
  const name = 'legacy .pth';
  const magic = readPickleAt(bytes, 0, `${name} header`);
  if (magic.value !== LEGACY_MAGIC) {
    throw new WeightsFormatError(
      "pth: starts with a pickle but not with PyTorch's magic number; not a torch.save file?",
    );
  }
  const protocol = readPickleAt(bytes, magic.end, `${name} header`);
  if (protocol.value !== LEGACY_PROTOCOL) {
    throw new WeightsFormatError(
      `pth: legacy protocol version ${String(protocol.value)} is not ${LEGACY_PROTOCOL}`,
    );
  }
  const sysInfo = readPickleAt(bytes, protocol.end, `${name} header`);
  if (sysInfo.value instanceof Map && sysInfo.value.get('little_endian') === false) {
    throw new WeightsFormatError(
      'pth: the storages are big-endian; only little-endian files are supported',
    );
  }
  const root = readPickleAt(bytes, sysInfo.end, `${name} object`);
  const keys = readPickleAt(bytes, root.end, `${name} storage keys`);
  if (!Array.isArray(keys.value) || !keys.value.every((k) => typeof k === 'string')) {
    throw new WeightsFormatError('pth: the legacy storage key list is malformed');
  }
  const types = new Map<string, string>();
  if (root.value instanceof Map) {
    for (const v of root.value.values())
      if (isTensorRef(v)) types.set(v.storage.key, v.storage.storageType);
  }
  const storages = new Map<string, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = keys.end;
  for (const key of keys.value as string[]) {
    const type = types.get(key);
    const elementSize = type ? ELEMENT_SIZES[type] : undefined;
    if (elementSize === undefined) {
      throw new WeightsFormatError(
        `pth: legacy storage '${key}' is not used by any tensor of the state dict; cannot size it`,
      );
    }
    if (pos + 8 > bytes.byteLength) {
      throw new WeightsFormatError(
        `pth: legacy storage '${key}' starts past the end of the file (truncated?)`,
      );
    }
    const numel = Number(view.getBigInt64(pos, true));
    const end = pos + 8 + numel * elementSize;
    if (end > bytes.byteLength) {
      throw new WeightsFormatError(
        `pth: legacy storage '${key}' needs ${numel * elementSize} bytes at byte ${pos + 8} but the file ends at ${bytes.byteLength} (truncated?)`,
      );
    }
    storages.set(key, bytes.subarray(pos + 8, end));
    pos = end;
  }
  return { root: root.value, storage: (key) => storages.get(key), pickleName: `${name} object` };
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
