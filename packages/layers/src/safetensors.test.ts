import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensor } from '@gpunet/tensor';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from './safetensors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/** A safetensors file from a header object and a data section, as the format defines it. */
function craft(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips float32 and int32 tensors and metadata through our writer and reader', async () => {
    const tensors = new Map<string, Tensor>([
      [
        'features.0.weight',
        tensor([
          [1.5, -2],
          [3.25, 1e-8],
        ]),
      ],
      ['labels', tensor([7, -1, 2 ** 30], [3], { dtype: 'int32' })],
      ['scalar', tensor([42], [])],
    ]);
    const bytes = await writeSafetensors(tensors, { format: 'pt' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const back = readSafetensors(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    expect([...back.tensors.keys()]).toEqual(['features.0.weight', 'labels', 'scalar']);
    const w = back.tensors.get('features.0.weight')!;
    expect(w.shape).toEqual([2, 2]);
    expect([...w.dataSync()]).toEqual([...tensors.get('features.0.weight')!.dataSync()]);
    expect(back.tensors.get('labels')!.dtype).toBe('int32');
    expect([...back.tensors.get('labels')!.dataSync()]).toEqual([7, -1, 2 ** 30]);
    expect(back.tensors.get('scalar')!.shape).toEqual([]);
  });

  it('reads a file written by Python (make_fixtures.py): F32 input and output, I32 labels, metadata', () => {
    const file = readSafetensors(
      new Uint8Array(readFileSync(join(fixtures, 'tiny_net_io.safetensors'))),
    );
    expect(file.tensors.get('x')!.shape).toEqual([2, 3, 9, 9]);
    expect(file.tensors.get('y')!.shape).toEqual([2, 5]);
    expect([...file.tensors.get('labels')!.dataSync()]).toEqual([3, 1]);
    expect(file.metadata.source).toBe('make_fixtures.py');
  });

  it('converts F64, F16, BF16 to float32 and I64 to int32', () => {
    const data = new Uint8Array(8 + 2 + 2 + 8);
    const view = new DataView(data.buffer);
    view.setFloat64(0, 0.1, true);
    view.setUint16(8, 0x3c00, true); // f16 1.0
    view.setUint16(10, 0xc040, true); // bf16 -3.0
    view.setBigInt64(12, -5n, true);
    const file = readSafetensors(
      craft(
        {
          d: { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
          h: { dtype: 'F16', shape: [1], data_offsets: [8, 10] },
          b: { dtype: 'BF16', shape: [1], data_offsets: [10, 12] },
          l: { dtype: 'I64', shape: [1], data_offsets: [12, 20] },
        },
        data,
      ),
    );
    expect(file.tensors.get('d')!.dataSync()[0]).toBeCloseTo(0.1, 7);
    expect(file.tensors.get('h')!.dataSync()[0]).toBe(1);
    expect(file.tensors.get('b')!.dataSync()[0]).toBe(-3);
    expect(file.tensors.get('l')!.dtype).toBe('int32');
    expect(file.tensors.get('l')!.dataSync()[0]).toBe(-5);
  });

  it('refuses an unsupported dtype, naming the key and the dtype', () => {
    const bytes = craft(
      { mask: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } },
      new Uint8Array(2),
    );
    expect(() => readSafetensors(bytes)).toThrow(
      /tensor 'mask' has dtype BOOL, which gpunet does not read/,
    );
  });

  it('reports a truncated file with the key, shape and byte counts', async () => {
    const bytes = await writeSafetensors({ w: tensor([1, 2, 3, 4]) });
    expect(() => readSafetensors(bytes.subarray(0, bytes.length - 4))).toThrow(
      /tensor 'w' \[4\] spans bytes 0\.\.16 but the data section has 12 \(truncated\?\)/,
    );
    expect(() => readSafetensors(bytes.subarray(0, 20))).toThrow(
      /header claims \d+ bytes but the file has only 12/,
    );
    expect(() => readSafetensors(bytes.subarray(0, 4))).toThrow(/too short/);
  });

  it('refuses offsets that do not match the shape and a header that is not JSON', () => {
    const bad = craft({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
    expect(() => readSafetensors(bad)).toThrow(
      "tensor 'w' [3] F32 needs 12 bytes but its offsets span 8",
    );
    const notJson = craft({}, new Uint8Array(0));
    notJson[8] = 0x41;
    expect(() => readSafetensors(notJson)).toThrow(/header is not valid JSON/);
  });
});
