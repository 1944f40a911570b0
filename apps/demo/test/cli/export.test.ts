import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alexnet } from '@gpunet/alexnet';
import { SyntheticImages, writeImageFolder } from '@gpunet/data';
import { readPth, readSafetensors, writeSafetensors } from '@gpunet/layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'gpunet-export-'));
const at = (name: string) => join(scratch, name);
const fixture = (name: string) =>
  new URL(`../../../../packages/alexnet/fixtures/${name}`, import.meta.url).pathname;

type Predictions = { image: string; predictions: { label: string; probability: number }[] }[];

async function predictions(weights: string, images: string[]): Promise<Predictions> {
  const run = await runCli(['predict', ...images, '--weights', weights, '--top-k', '3', '--json']);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.lines.filter((l) => 'predictions' in l) as Predictions;
}

describe('gpunet export', () => {
  let images: string[] = [];
  beforeAll(async () => {
    // A mini AlexNet saved without the CLI's metadata: its shapes say what it is.
    const model = alexnet({ variant: 'mini', seed: 5 });
    writeFileSync(at('mini.safetensors'), await writeSafetensors(model.stateDict()));
    for (const p of model.parameters()) p.dispose();
    await writeImageFolder(
      new SyntheticImages({ length: 3, numClasses: 3, seed: 9 }),
      at('images'),
      {
        format: 'png',
      },
    );
    images = readdirSync(at('images')).flatMap((c) =>
      readdirSync(at(`images/${c}`)).map((f) => at(`images/${c}/${f}`)),
    );
  }, 60_000);

  it('writes onnx and pth that predict reads back with the same predictions', async () => {
    const toOnnx = await runCli([
      'export',
      '--weights',
      at('mini.safetensors'),
      '--out',
      at('mini.onnx'),
      '--json',
    ]);
    expect(toOnnx.stderr).toBe('');
    expect(toOnnx.code).toBe(0);
    expect(toOnnx.lines.find((l) => l.event === 'export')).toMatchObject({
      format: 'onnx',
      variant: 'mini',
      numClasses: 10,
      inputSize: 32,
    });
    const toPth = await runCli([
      'export',
      '--weights',
      at('mini.onnx'),
      '--format',
      'pth',
      '--out',
      at('mini.pth'),
    ]);
    expect(toPth.code).toBe(0);
    expect(toPth.stdout).toMatch(/wrote .*mini\.pth: pth, mini AlexNet, 10 classes/);
    // The .pth holds the same tensors bit for bit.
    const original = readSafetensors(new Uint8Array(readFileSync(at('mini.safetensors'))));
    const back = readPth(new Uint8Array(readFileSync(at('mini.pth'))));
    expect([...back.tensors.keys()]).toEqual([...original.tensors.keys()]);
    for (const [key, t] of original.tensors) {
      expect([...((await back.tensors.get(key)?.data()) ?? [])], key).toEqual([
        ...(await t.data()),
      ]);
    }
    const reference = await predictions(at('mini.safetensors'), images);
    expect(reference).toHaveLength(3);
    for (const file of ['mini.onnx', 'mini.pth']) {
      const got = await predictions(at(file), images);
      expect(got.map((r) => r.predictions.map((p) => p.label))).toEqual(
        reference.map((r) => r.predictions.map((p) => p.label)),
      );
      for (const [i, r] of got.entries()) {
        for (const [j, p] of r.predictions.entries()) {
          expect(p.probability).toBeCloseTo(reference[i]?.predictions[j]?.probability ?? -1, 5);
        }
      }
    }
  }, 120_000);

  it('eval, summary and visualize accept .onnx weights', async () => {
    const evalOf = async (weights: string) => {
      const run = await runCli([
        ...['eval', '--weights', weights, '--data', 'synthetic:train=8,val=16,classes=10'],
        '--json',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      return run.lines.find((l) => l.event === 'eval');
    };
    expect(await evalOf(at('mini.onnx'))).toEqual(await evalOf(at('mini.safetensors')));
    const summaryOf = async (weights: string) => {
      const run = await runCli(['summary', '--weights', weights, '--json']);
      expect(run.code).toBe(0);
      return run.lines[0];
    };
    const fromOnnx = await summaryOf(at('mini.onnx'));
    expect(fromOnnx).toMatchObject({ event: 'summary', model: 'mini', inputShape: [1, 3, 32, 32] });
    expect(fromOnnx).toEqual(await summaryOf(at('mini.safetensors')));
    const visualize = await runCli([
      'visualize',
      '--weights',
      at('mini.onnx'),
      '--out',
      at('pictures'),
      '--json',
    ]);
    expect(visualize.code).toBe(0);
    expect(existsSync(at('pictures/conv1-filters.png'))).toBe(true);
  }, 120_000);

  it("reads Caffe's AlexNet as ONNX (model zoo layout) and writes it as a torchvision-style .pth and .safetensors", async () => {
    for (const out of ['caffe.pth', 'caffe.safetensors']) {
      const run = await runCli([
        'export',
        '--weights',
        fixture('caffe_alexnet_small.onnx'),
        '--out',
        at(out),
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(
        'paper AlexNet, 10 classes, 3x227x227 input, 122,090 parameters',
      );
    }
    // The safetensors keeps Caffe's LRN constants in the CLI's metadata, so it reloads the same model.
    const again = await runCli([
      'export',
      '--weights',
      at('caffe.safetensors'),
      '--out',
      at('caffe2.onnx'),
    ]);
    expect(again.code).toBe(0);
    expect(
      readSafetensors(new Uint8Array(readFileSync(at('caffe.safetensors')))).metadata[
        'gpunet.demo.model'
      ],
    ).toContain('"lrn":{"size":5');
  }, 120_000);

  describe('malformed .onnx: one line naming the file and the part, exit code 2, nothing written', () => {
    const valid = () => readFileSync(fixture('caffe_alexnet_small.onnx'));
    const cases: [string, () => Buffer, RegExp][] = [
      [
        'truncated',
        () => valid().subarray(0, 20_000),
        /^gpunet: --weights .*truncated\.onnx: onnx: not a readable ONNX protobuf \(.*\); truncated or not an \.onnx file\?\n$/,
      ],
      [
        'not protobuf',
        () => Buffer.from('{"model": "not ONNX"}\n'),
        /^gpunet: --weights .*not protobuf\.onnx: onnx: not a readable ONNX protobuf/,
      ],
      [
        'unsupported op',
        // The first op_type "Relu" (field 4, 4 bytes) -> "Selu": still valid protobuf, an op gpunet lacks.
        () => {
          const bytes = valid();
          const i = bytes.indexOf(Buffer.from([0x22, 0x04, ...Buffer.from('Relu')]));
          bytes.write('Selu', i + 2);
          return bytes;
        },
        /^gpunet: --weights .*unsupported op\.onnx: onnx: node '.*' \(Selu\) has no gpunet layer \(supported: Conv, Relu, LRN, .*\)\n$/,
      ],
      [
        'shape mismatch',
        // fc8's bias claims 11 values where 10 are stored (dims field of the last initializer).
        () => {
          const bytes = valid();
          const original = readFileSync(fixture('caffe_alexnet_small.onnx'));
          // The bias of fc8 is the last 1-D initializer of 10 floats: dims = 0x08 0x0a.
          const marker = Buffer.from([0x08, 0x0a, 0x10, 0x01]);
          const i = original.lastIndexOf(marker);
          bytes[i + 1] = 0x0b;
          return bytes;
        },
        /^gpunet: --weights .*shape mismatch\.onnx: onnx: initializer '.*' \[11\] needs 44 bytes of data but has 40 \(truncated\?\)\n$/,
      ],
    ];
    for (const [name, make, message] of cases) {
      it(name, async () => {
        const file = at(`${name}.onnx`);
        writeFileSync(file, make());
        const out = at(`${name}-out.pth`);
        const run = await runCli(['export', '--weights', file, '--out', out]);
        expect(run.stderr).toMatch(message);
        expect(run.code).toBe(2);
        expect(existsSync(out)).toBe(false);
        expect(existsSync(`${out}.tmp`)).toBe(false);
      }, 60_000);
    }
  });
});
