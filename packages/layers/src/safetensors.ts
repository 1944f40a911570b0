/**
 * The `.safetensors` format (https://huggingface.co/docs/safetensors): 8 bytes of little-endian
 * header length N, N bytes of JSON `{ key: { dtype, shape, data_offsets: [begin, end] },
 * "__metadata__"?: { string: string } }`, then the raw little-endian data, offsets counted from
 * the end of the header.
 */
import { type Tensor, tensor } from '@gpunet/tensor';
import { decodeElements, STORED_DTYPES, type StoredDType } from './internal/storage-dtype.js';
import { type StateDictLike, toStateDictMap } from './state-dict.js';
import { type WeightsFile, WeightsFormatError } from './weights-file.js';

const SAFETENSORS_DTYPES: Record<string, StoredDType> = {
  F32: 'float32',
  F64: 'float64',
  F16: 'float16',
  BF16: 'bfloat16',
  I32: 'int32',
  I64: 'int64',
};

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

function isHeaderEntry(value: unknown): value is HeaderEntry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.dtype === 'string' &&
    Array.isArray(v.shape) &&
    v.shape.every((d) => Number.isInteger(d) && d >= 0) &&
    Array.isArray(v.data_offsets) &&
    v.data_offsets.length === 2 &&
    v.data_offsets.every((d) => Number.isInteger(d) && d >= 0)
  );
}

/**
 * Reads a `.safetensors` file's bytes into tensors. F32 and I32 load as they are; F64, F16 and
 * BF16 are converted to float32 and I64 to int32 (an error names the key if a value does not
 * fit). Any other dtype (U8, BOOL, F8...) throws naming the key and dtype. Works in Node and
 * the browser.
 */
export function readSafetensors(bytes: Uint8Array): WeightsFile {
  if (bytes.byteLength < 8) {
    throw new WeightsFormatError(
      `safetensors: file is ${bytes.byteLength} bytes, too short for the 8-byte header length (truncated?)`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (8 + headerLength > bytes.byteLength) {
    throw new WeightsFormatError(
      `safetensors: header claims ${headerLength} bytes but the file has only ${bytes.byteLength - 8} after the length (truncated?)`,
    );
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  } catch (error) {
    throw new WeightsFormatError(
      `safetensors: header is not valid JSON (${(error as Error).message})`,
    );
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new WeightsFormatError('safetensors: header is not a JSON object');
  }
  const data = bytes.subarray(8 + headerLength);
  const result: WeightsFile = { tensors: new Map(), skipped: [], metadata: {} };
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') {
      if (typeof entry === 'object' && entry !== null) {
        for (const [k, v] of Object.entries(entry))
          if (typeof v === 'string') result.metadata[k] = v;
      }
      continue;
    }
    if (!isHeaderEntry(entry))
      throw new WeightsFormatError(
        `safetensors: header entry '${key}' is malformed: ${JSON.stringify(entry)}`,
      );
    const stored = SAFETENSORS_DTYPES[entry.dtype];
    if (!stored) {
      throw new WeightsFormatError(
        `safetensors: tensor '${key}' has dtype ${entry.dtype}, which gpunet does not read (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
      );
    }
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    const itemBytes = STORED_DTYPES[stored].bytes;
    if (end > data.byteLength || begin > end) {
      throw new WeightsFormatError(
        `safetensors: tensor '${key}' [${entry.shape.join(', ')}] spans bytes ${begin}..${end} but the data section has ${data.byteLength} (truncated?)`,
      );
    }
    if (end - begin !== count * itemBytes) {
      throw new WeightsFormatError(
        `safetensors: tensor '${key}' [${entry.shape.join(', ')}] ${entry.dtype} needs ${count * itemBytes} bytes but its offsets span ${end - begin}`,
      );
    }
    const values = decodeElements(data.subarray(begin, end), stored, count, (i) => i, key);
    result.tensors.set(key, tensor(values, entry.shape));
  }
  return result;
}

/**
 * Writes tensors (a state dict) as `.safetensors` bytes: float32 as F32, int32 as I32, in the
 * order given, with optional string metadata. Async because values are read from the device.
 */
export async function writeSafetensors(
  tensors: StateDictLike,
  metadata?: Record<string, string>,
): Promise<Uint8Array> {
  const entries = [...toStateDictMap(tensors)];
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const chunks: Uint8Array[] = [];
  for (const [key, t] of entries as [string, Tensor][]) {
    const values = await t.data();
    const bytes = new Uint8Array(values.byteLength);
    const view = new DataView(bytes.buffer);
    if (t.dtype === 'float32')
      for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
    else for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i], true);
    header[key] = {
      dtype: t.dtype === 'float32' ? 'F32' : 'I32',
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.byteLength],
    };
    offset += bytes.byteLength;
    chunks.push(bytes);
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  json += ' '.repeat((8 - (new TextEncoder().encode(json).byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let position = 8 + headerBytes.byteLength;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.byteLength;
  }
  return out;
}
