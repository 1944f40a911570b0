import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '@gpunet/tensor';
import { dispose, memory, noGrad } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import {
  AdaptiveAvgPool2d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  LocalResponseNorm,
  MaxPool2d,
  ReLU,
  Sequential,
} from './index.js';
import { Module } from './module.js';
import { PickleError, readPickle } from './pickle.js';
import { readPth } from './pth.js';
import { readSafetensors } from './safetensors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const fixture = (name: string) => new Uint8Array(readFileSync(join(fixtures, name)));

/** The TinyNet of fixtures/make_fixtures.py, layer for layer. */
class TinyNet extends Module {
  features = new Sequential(
    new Conv2d(3, 4, 3, { padding: 1 }),
    new ReLU(),
    new LocalResponseNorm(3, { alpha: 0.1, beta: 0.75, k: 2 }),
    new MaxPool2d(3, { stride: 2 }),
    new Conv2d(4, 6, 3, { padding: 1, groups: 2 }),
    new ReLU(),
    new AdaptiveAvgPool2d(2),
  );
  flatten = new Flatten();
  classifier = new Sequential(new Dropout(0.5), new Linear(24, 5));

  forward(x: Tensor): Tensor {
    return this.classifier.call(this.flatten.call(this.features.call(x)));
  }
}

describe('readPth', () => {
  it('loads a state dict saved by torch.save and reproduces PyTorch output within 1e-5', () => {
    const weights = readPth(fixture('tiny_net.pth'));
    expect([...weights.tensors.keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.4.weight',
      'features.4.bias',
      'classifier.1.weight',
      'classifier.1.bias',
    ]);
    expect(weights.tensors.get('features.4.weight')?.shape).toEqual([6, 2, 3, 3]);
    const net = new TinyNet();
    const result = net.loadStateDict(weights.tensors);
    expect(result.loaded).toHaveLength(6);
    dispose([...weights.tensors.values()]);
    const io = readSafetensors(fixture('tiny_net_io.safetensors'));
    const x = io.tensors.get('x') as Tensor;
    const expected = (io.tensors.get('y') as Tensor).dataSync();
    net.eval();
    const y = noGrad(() => net.forward(x));
    expect(y.shape).toEqual([2, 5]);
    assertClose(y.dataSync(), expected, { atol: 1e-5, rtol: 0 });
  });

  it('gathers non-contiguous views (transpose, column, offset block) and converts int64 to int32', () => {
    const expected = JSON.parse(readFileSync(join(fixtures, 'views.json'), 'utf8')) as Record<
      string,
      { shape: number[]; values: number[] }
    >;
    const { tensors, skipped } = readPth(fixture('views.pth'));
    expect(skipped).toEqual([]);
    for (const [key, { shape, values }] of Object.entries(expected)) {
      const t = tensors.get(key)!;
      expect(t.shape, key).toEqual(shape);
      expect([...t.dataSync()], key).toEqual(values);
    }
    expect(tensors.get('transposed')!.shape).toEqual([6, 4]);
    expect(tensors.get('count')!.dtype).toBe('int32');
    dispose([...tensors.values()]);
  });

  it("skips int64 tensors with int64: 'skip' and reports them", () => {
    const { tensors, skipped } = readPth(fixture('views.pth'), { int64: 'skip' });
    expect(tensors.has('count')).toBe(false);
    expect(skipped).toEqual([{ key: 'count', reason: 'int64 tensor skipped (int64: "skip")' }]);
    dispose([...tensors.values()]);
  });

  it('refuses a uint8 tensor, naming the key, shape and storage type, and leaks nothing', () => {
    const before = memory().numTensors;
    expect(() => readPth(fixture('uint8.pth'))).toThrow(
      "pth: tensor 'mask' [3] is stored as ByteStorage, which gpunet does not read",
    );
    expect(memory().numTensors).toBe(before);
  });

  it('reports a truncated or corrupt archive', () => {
    const bytes = fixture('tiny_net.pth');
    expect(() => readPth(bytes.subarray(0, bytes.length - 100))).toThrow(
      /pth: not a readable zip archive .*truncated or corrupt/,
    );
    expect(() => readPth(new Uint8Array([0x80, 0x02, 0x8a]))).toThrow(
      'legacy .pth header: unexpected end of data: needs 1 more bytes, file has 3; truncated? (opcode at byte 2)',
    );
  });

  it('reads the legacy (pre-1.6, non-zip) format into the same tensors as the zip format', () => {
    const zip = readPth(fixture('tiny_net.pth'));
    const legacy = readPth(fixture('tiny_net_legacy.pth'));
    expect([...legacy.tensors.keys()]).toEqual([...zip.tensors.keys()]);
    for (const [key, t] of zip.tensors) {
      expect(legacy.tensors.get(key)!.shape, key).toEqual(t.shape);
      expect([...legacy.tensors.get(key)!.dataSync()], key).toEqual([...t.dataSync()]);
    }
    dispose([...zip.tensors.values(), ...legacy.tensors.values()]);
  });

  it('reports a truncated legacy file, naming the storage and byte counts', () => {
    const bytes = fixture('tiny_net_legacy.pth');
    expect(() => readPth(bytes.subarray(0, bytes.length - 10))).toThrow(
      /pth: legacy storage '\d+' needs 16 bytes at byte 2641 but the file ends at 2647 \(truncated\?\)/,
    );
  });

  it('names the tensor whose storage is missing from the archive', () => {
    const files = unzipSync(fixture('tiny_net.pth'));
    delete files['tiny_net/data/2'];
    expect(() => readPth(zipSync(files))).toThrow(
      "pth: tensor 'features.4.weight' [6, 2, 3, 3]: its storage data/2 is missing",
    );
  });

  it('names the tensor whose storage is too short for its shape', () => {
    const files = unzipSync(fixture('tiny_net.pth'));
    files['tiny_net/data/1'] = files['tiny_net/data/1'].subarray(0, 8);
    expect(() => readPth(zipSync(files))).toThrow(
      "pth: tensor 'features.0.bias' [4] with offset 0 and stride [1] reaches element 3 but storage data/1 holds 2",
    );
  });
});

/** Pickle bytes from opcodes and strings (latin1). */
const pickleBytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)),
  );

describe('the restricted pickle reader', () => {
  it('refuses GLOBAL os system + REDUCE, naming the global, before anything is called', () => {
    // protocol 2: GLOBAL 'os system', BINUNICODE 'ls', TUPLE1, REDUCE, STOP
    const evil = pickleBytes([0x80, 0x02], 'cos\nsystem\n', 'X', [2, 0, 0, 0], 'ls', [0x85], 'R.');
    expect(() => readPickle(evil)).toThrow(PickleError);
    expect(() => readPickle(evil)).toThrow("data.pkl: global 'os.system' is not allowed");
  });

  it('refuses the same attack inside a .pth archive and through STACK_GLOBAL', () => {
    const evil = pickleBytes([0x80, 0x02], 'cos\nsystem\n', 'X', [2, 0, 0, 0], 'ls', [0x85], 'R.');
    expect(() => readPth(zipSync({ 'archive/data.pkl': evil }))).toThrow(
      "archive/data.pkl: global 'os.system' is not allowed",
    );
    // protocol 4: SHORT_BINUNICODE 'builtins', SHORT_BINUNICODE 'eval', STACK_GLOBAL
    const stackGlobal = pickleBytes(
      [0x80, 0x04, 0x8c, 8],
      'builtins',
      [0x8c, 4],
      'eval',
      [0x93],
      '.',
    );
    expect(() => readPickle(stackGlobal)).toThrow("global 'builtins.eval' is not allowed");
  });

  it('refuses object-building opcodes by name and calling an allowed non-function', () => {
    expect(() => readPickle(pickleBytes([0x80, 0x02], ')', [0x81], '.'))).toThrow(
      'opcode NEWOBJ is not allowed',
    );
    expect(() => readPickle(pickleBytes('(i__builtin__\nobject\n.'))).toThrow(
      'opcode INST is not allowed',
    );
    const callStorage = pickleBytes([0x80, 0x02], 'ctorch\nFloatStorage\n', ')', 'R.');
    expect(() => readPickle(callStorage)).toThrow('calling torch.FloatStorage is not allowed');
  });

  it('decodes dicts, lists, tuples, ints, floats, strings, booleans and None', () => {
    const bytes = pickleBytes(
      [0x80, 0x02],
      '}q',
      [0],
      '(X',
      [1, 0, 0, 0],
      'a',
      'K',
      [7],
      'X',
      [1, 0, 0, 0],
      'b',
      ']',
      '(',
      [0x88, 0x89],
      'N',
      'e',
      'X',
      [1, 0, 0, 0],
      'c',
      'J',
      [0xfe, 0xff, 0xff, 0xff],
      [0x85],
      'X',
      [1, 0, 0, 0],
      'd',
      'G',
      [0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
      'X',
      [1, 0, 0, 0],
      'e',
      [0x8a, 1, 0xff],
      'u.',
    );
    const value = readPickle(bytes) as Map<unknown, unknown>;
    expect(value).toEqual(
      new Map<unknown, unknown>([
        ['a', 7],
        ['b', [true, false, null]],
        ['c', [-2]],
        ['d', 1.5],
        ['e', -1],
      ]),
    );
  });

  it('reports truncated pickle data with the byte offset', () => {
    expect(() => readPickle(pickleBytes([0x80, 0x02], 'X', [9, 0, 0, 0], 'ab'))).toThrow(
      'data.pkl: unexpected end of data: needs 9 more bytes, file has 9; truncated? (opcode at byte 2)',
    );
  });
});
