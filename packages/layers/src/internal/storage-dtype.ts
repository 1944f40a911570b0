/**
 * Reading stored element types into the two dtypes tensors hold: float32 (from F32, and
 * converted from F64, F16 and BF16) and int32 (from I32, and from I64 when every value fits).
 */
import type { DType, TypedArray } from '@gpunet/tensor';

/** Element types the readers decode, with their size in bytes. */
export const STORED_DTYPES = {
  float32: { bytes: 4, dtype: 'float32' },
  float64: { bytes: 8, dtype: 'float32' },
  float16: { bytes: 2, dtype: 'float32' },
  bfloat16: { bytes: 2, dtype: 'float32' },
  int32: { bytes: 4, dtype: 'int32' },
  int64: { bytes: 8, dtype: 'int32' },
} as const satisfies Record<string, { bytes: number; dtype: DType }>;

/** A stored element type the readers decode. */
export type StoredDType = keyof typeof STORED_DTYPES;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Reads `count` elements of `stored` type, little-endian, from `bytes` at element positions
 * `index(i)` (offsets counted in elements). Throws naming `key` when an int64 does not fit in int32.
 */
export function decodeElements(
  bytes: Uint8Array,
  stored: StoredDType,
  count: number,
  index: (i: number) => number,
  key: string,
): TypedArray {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const { dtype } = STORED_DTYPES[stored];
  const out = dtype === 'float32' ? new Float32Array(count) : new Int32Array(count);
  switch (stored) {
    case 'float32':
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(index(i) * 4, true);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(index(i) * 8, true);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(index(i) * 2, true));
      break;
    case 'bfloat16': {
      // bfloat16 is the top half of a float32.
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        scratch.setUint32(0, view.getUint16(index(i) * 2, true) << 16);
        out[i] = scratch.getFloat32(0);
      }
      break;
    }
    case 'int32':
      for (let i = 0; i < count; i++) out[i] = view.getInt32(index(i) * 4, true);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) {
        const v = view.getBigInt64(index(i) * 8, true);
        if (v > 2147483647n || v < -2147483648n) {
          throw new RangeError(`${key}: int64 value ${v} at element ${i} does not fit in int32`);
        }
        out[i] = Number(v);
      }
      break;
  }
  return out;
}
