import { DataError } from './errors.js';

/** The element types an IDX file can hold, by their type code (third magic byte). */
export const IDX_TYPES = {
  8: { name: 'uint8', bytes: 1 },
  9: { name: 'int8', bytes: 1 },
  11: { name: 'int16', bytes: 2 },
  12: { name: 'int32', bytes: 4 },
  13: { name: 'float32', bytes: 4 },
  14: { name: 'float64', bytes: 8 },
} as const;

/** A parsed IDX array: its element type, shape and values (uint8 data stays a Uint8Array). */
export interface IdxArray {
  dtype: (typeof IDX_TYPES)[keyof typeof IDX_TYPES]['name'];
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Parses an IDX file (LeCun's MNIST format, already gunzipped): magic `00 00 <type> <ndim>`,
 * `ndim` big-endian uint32 sizes, then the values big-endian, row-major. Throws a DataError
 * naming `source` for a wrong magic number, an unknown type, or a body shorter or longer than
 * the header says.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4)
    throw new DataError(
      source,
      `not an IDX file: ${bytes.length} bytes is shorter than the 4-byte magic number`,
    );
  const magic = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const type = IDX_TYPES[bytes[2] as keyof typeof IDX_TYPES];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !type) {
    throw new DataError(
      source,
      `not an IDX file: wrong magic number ${magic} (expected 00 00 <type 08..0e> <ndim>)`,
    );
  }
  const ndim = bytes[3];
  if (ndim === 0) throw new DataError(source, `IDX header has 0 dimensions (magic ${magic})`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataError(
      source,
      `IDX header is truncated: ${ndim} dimensions need ${headerBytes} bytes, file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = count * type.bytes;
  const body = bytes.length - headerBytes;
  if (body !== expected) {
    const what = body < expected ? 'truncated' : 'longer than its header says';
    throw new DataError(
      source,
      `IDX body is ${what}: shape [${shape.join(', ')}] of ${type.name} needs ${expected} bytes after the ${headerBytes}-byte header, found ${body}`,
    );
  }
  const start = headerBytes;
  let data: IdxArray['data'];
  switch (type.name) {
    case 'uint8':
      data = bytes.slice(start);
      break;
    case 'int8':
      data = new Int8Array(bytes.slice(start).buffer);
      break;
    case 'int16':
      data = Int16Array.from({ length: count }, (_, i) => view.getInt16(start + 2 * i, false));
      break;
    case 'int32':
      data = Int32Array.from({ length: count }, (_, i) => view.getInt32(start + 4 * i, false));
      break;
    case 'float32':
      data = Float32Array.from({ length: count }, (_, i) => view.getFloat32(start + 4 * i, false));
      break;
    case 'float64':
      data = Float64Array.from({ length: count }, (_, i) => view.getFloat64(start + 8 * i, false));
      break;
  }
  return { dtype: type.name, shape, data };
}

/** Whether `bytes` start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * `parseIdx` for bytes that may be gzipped (`.gz` as distributed), on any platform: gunzips with
 * the standard `DecompressionStream` (browsers, Node >= 18). Use it on fetched MNIST files.
 */
export async function readIdx(bytes: Uint8Array, source: string): Promise<IdxArray> {
  if (!isGzip(bytes)) return parseIdx(bytes, source);
  let plain: Uint8Array;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    plain = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    throw new DataError(
      source,
      `corrupt gzip data: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseIdx(plain, source);
}
