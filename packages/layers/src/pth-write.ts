/**
 * Writes PyTorch checkpoints as `torch.save(state_dict, path)` does (the zip format of PyTorch
 * 1.6+), so `torch.load(path, weights_only=True)` reads them: a zip, stored uncompressed, of
 * `archive/data.pkl` (a protocol-2 pickle of an OrderedDict of `_rebuild_tensor_v2` calls whose
 * storages are persistent ids), `archive/byteorder`, `archive/data/<n>` (each tensor's raw
 * little-endian bytes) and `archive/version`.
 */
import type { Tensor } from '@gpunet/tensor';
import { zipSync } from 'fflate';
import { type StateDictLike, toStateDictMap } from './state-dict.js';
import { WeightsFormatError } from './weights-file.js';

/** The storage class and element size torch uses for each gpunet dtype. */
const STORAGE: Record<string, string> = { float32: 'FloatStorage', int32: 'IntStorage' };

/** The pickle opcodes a state dict needs (Python's pickletools names). */
const OP = {
  PROTO: 0x80,
  GLOBAL: 0x63, // c
  EMPTY_TUPLE: 0x29, // )
  MARK: 0x28, // (
  TUPLE: 0x74, // t
  REDUCE: 0x52, // R
  SETITEMS: 0x75, // u
  BINPERSID: 0x51, // Q
  BINUNICODE: 0x58, // X
  BININT1: 0x4b, // K
  BININT: 0x4a, // J
  NEWFALSE: 0x89,
  STOP: 0x2e, // .
} as const;

/** A growing byte buffer with the pickle encodings of the values a state dict holds. */
class PickleWriter {
  private chunks: number[] = [];
  private readonly encoder = new TextEncoder();

  op(code: number): this {
    this.chunks.push(code);
    return this;
  }

  global(module: string, name: string): this {
    this.op(OP.GLOBAL);
    for (const b of this.encoder.encode(`${module}\n${name}\n`)) this.chunks.push(b);
    return this;
  }

  string(value: string): this {
    const bytes = this.encoder.encode(value);
    this.op(OP.BINUNICODE).uint32(bytes.length);
    for (const b of bytes) this.chunks.push(b);
    return this;
  }

  int(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
      throw new WeightsFormatError(`writePth: ${value} is not a non-negative int32`);
    }
    if (value < 256) return this.op(OP.BININT1).op(value);
    return this.op(OP.BININT).uint32(value);
  }

  tuple(values: readonly number[]): this {
    if (values.length === 0) return this.op(OP.EMPTY_TUPLE);
    this.op(OP.MARK);
    for (const v of values) this.int(v);
    return this.op(OP.TUPLE);
  }

  private uint32(value: number): this {
    this.chunks.push(value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24);
    return this;
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Row-major strides of a contiguous tensor. */
function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Options of `writePth`. */
export interface WritePthOptions {
  /** The zip's top folder (torch.save uses `archive` since PyTorch 2.0). Default 'archive'. */
  archiveName?: string;
}

/**
 * Serializes tensors (a state dict) to the bytes of a PyTorch `.pth` that `torch.load(path,
 * weights_only=True)` returns as an `OrderedDict` of tensors, keys in the given order, ready for
 * `model.load_state_dict`. float32 tensors become `torch.float32`, int32 `torch.int32`. Works in
 * Node and the browser; `savePth` in `@gpunet/layers/node` writes a file.
 */
export async function writePth(
  tensors: StateDictLike,
  options: WritePthOptions = {},
): Promise<Uint8Array> {
  const archive = options.archiveName ?? 'archive';
  const entries = [...toStateDictMap(tensors)];
  const pickle = new PickleWriter();
  const files: Record<string, Uint8Array> = {};
  const storages: Uint8Array[] = [];
  // torch.save pickles `OrderedDict()` and then sets its items.
  pickle.op(OP.PROTO).op(2).global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE);
  pickle.op(OP.MARK);
  for (const [index, [key, t]] of entries.entries()) {
    const storage = STORAGE[t.dtype];
    if (!storage) {
      throw new WeightsFormatError(
        `writePth: tensor '${key}' is ${t.dtype}; .pth export writes float32 and int32`,
      );
    }
    const data = await (t as Tensor).data();
    storages.push(
      new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)),
    );
    pickle.string(key).global('torch._utils', '_rebuild_tensor_v2').op(OP.MARK);
    // The storage, by persistent id: ('storage', torch.FloatStorage, key, location, numel).
    pickle.op(OP.MARK).string('storage').global('torch', storage).string(String(index));
    pickle.string('cpu').int(t.size).op(OP.TUPLE).op(OP.BINPERSID);
    pickle.int(0).tuple(t.shape).tuple(stridesOf(t.shape)).op(OP.NEWFALSE);
    pickle.global('collections', 'OrderedDict').op(OP.EMPTY_TUPLE).op(OP.REDUCE);
    pickle.op(OP.TUPLE).op(OP.REDUCE);
  }
  pickle.op(OP.SETITEMS).op(OP.STOP);
  files[`${archive}/data.pkl`] = pickle.bytes();
  files[`${archive}/byteorder`] = new TextEncoder().encode('little');
  for (const [index, bytes] of storages.entries()) files[`${archive}/data/${index}`] = bytes;
  files[`${archive}/version`] = new TextEncoder().encode('3\n');
  // Stored, not deflated: torch reads storages straight out of the archive.
  return zipSync(files, { level: 0 });
}
