import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SyntheticImages, writeImageFolder } from '@gpunet/data';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const SMALL = 'synthetic:train=512,val=128,classes=4';
const scratch = mkdtempSync(join(tmpdir(), 'gpunet-cli-'));
const out = join(scratch, 'run');

const epochs = (lines: Record<string, unknown>[]) => lines.filter((l) => l.event === 'epoch');

/** A PNG's grey-level variance and how many pixels are within 24 of `rgb` (per channel). */
async function pixels(path: string, rgb?: [number, number, number]) {
  const { data, info } = await sharp(path)
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  let sum = 0;
  let sumSquares = 0;
  let near = 0;
  const count = info.width * info.height;
  for (let p = 0; p < count; p++) {
    const [r, g, b] = [data[3 * p] ?? 0, data[3 * p + 1] ?? 0, data[3 * p + 2] ?? 0];
    const grey = (r + g + b) / 3;
    sum += grey;
    sumSquares += grey * grey;
    if (
      rgb &&
      Math.abs(r - rgb[0]) <= 24 &&
      Math.abs(g - rgb[1]) <= 24 &&
      Math.abs(b - rgb[2]) <= 24
    )
      near++;
  }
  return { variance: sumSquares / count - (sum / count) ** 2, near };
}

describe('gpunet train', () => {
  let lines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const run = await runCli(['train', '--data', SMALL, '--epochs', '3', '--json', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    lines = run.lines;
  }, 120_000);

  it('--json writes one object per epoch with the fields, and nothing else on stdout', () => {
    expect(lines[0]).toMatchObject({ event: 'backend', backend: 'wasm' });
    // @gpunet/kernels' auto: every GPU mode passed over (no real GPU here), each with its reason.
    const passedOver = lines[0]?.passedOver as string[];
    expect(passedOver.map((line) => line.split(':')[0])).toEqual([
      'webgpu',
      'webgl2',
      'webgl',
      'headlessgl',
    ]);
    const perEpoch = epochs(lines);
    expect(perEpoch.map((l) => l.epoch)).toEqual([1, 2, 3]);
    for (const l of perEpoch) {
      for (const key of ['loss', 'trainTop1', 'valTop1', 'imagesPerSecond'])
        expect(typeof l[key], key).toBe('number');
      // 4 classes: top-5 would be 100% by construction, so it is null.
      expect(l.valTop5).toBeNull();
    }
    // 4 classes, chance 25%: the mini AlexNet learns the shapes.
    expect(perEpoch.at(-1)?.valTop1).toBeGreaterThanOrEqual(0.9);
    expect(perEpoch.at(-1)?.loss).toBeLessThan(perEpoch[0]?.loss as number);
  });

  it('leaves the checkpoint, the weights, run.json and the PNGs, with the expected sizes', async () => {
    for (const f of ['checkpoint.safetensors', 'model.safetensors', 'run.json'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const curves = await sharp(join(out, 'curves.png')).metadata();
    expect([curves.format, curves.width, curves.height]).toEqual(['png', 940, 340]);
    // 16 conv1 filters of 5x5, 10 px per weight, 2 px gaps, one row.
    const filters = await sharp(join(out, 'conv1-filters.png')).metadata();
    expect([filters.width, filters.height]).toEqual([16 * 52 + 2, 54]);
    // Not blank: the curves have the training loss's blue (#1f5fa8) and the validation's orange
    // (#d9480f) drawn; the filters vary from tile to tile.
    const curvePixels = await pixels(join(out, 'curves.png'), [0x1f, 0x5f, 0xa8]);
    expect(curvePixels.near).toBeGreaterThan(200);
    expect((await pixels(join(out, 'curves.png'), [0xd9, 0x48, 0x0f])).near).toBeGreaterThan(200);
    expect(curvePixels.variance).toBeGreaterThan(100);
    expect((await pixels(join(out, 'conv1-filters.png'))).variance).toBeGreaterThan(500);
  });

  it('--resume after epoch 2 gives the 3-epoch run bit for bit', async () => {
    const other = join(scratch, 'resumed');
    const first = await runCli([
      'train',
      '--data',
      SMALL,
      '--epochs',
      '2',
      '--json',
      '--out',
      other,
    ]);
    expect(first.code).toBe(0);
    const second = await runCli([
      ...['train', '--data', SMALL, '--epochs', '3', '--json', '--out', other],
      ...['--resume', join(other, 'checkpoint.safetensors')],
    ]);
    expect(second.code).toBe(0);
    expect(epochs(second.lines).map((l) => l.epoch)).toEqual([3]);
    expect(epochs(second.lines)[0]?.loss).toBe(epochs(lines)[2]?.loss);
    expect(epochs(second.lines)[0]?.valTop1).toBe(epochs(lines)[2]?.valTop1);
    const { readFileSync } = await import('node:fs');
    expect(
      Buffer.compare(
        readFileSync(join(other, 'model.safetensors')),
        readFileSync(join(out, 'model.safetensors')),
      ),
    ).toBe(0);
  }, 120_000);

  it("eval reproduces the last epoch's validation top-1 and runs the 10 crops", async () => {
    const run = await runCli([
      'eval',
      '--weights',
      join(out, 'model.safetensors'),
      '--data',
      SMALL,
      '--json',
    ]);
    expect(run.code).toBe(0);
    const result = run.lines.find((l) => l.event === 'eval') as {
      center: { top1: number; count: number };
      ten: { top1: number; top5: number | null; count: number };
    };
    expect(result.center.count).toBe(128);
    expect(result.center.top1).toBe(epochs(lines).at(-1)?.valTop1);
    expect(result.ten.count).toBe(128);
    expect(result.ten.top1).toBeGreaterThanOrEqual(0.8);
    expect(result.ten.top5).toBeNull();
  }, 60_000);

  it('predict names the shape of held-out images, with probabilities summing to at most 1', async () => {
    const folder = join(scratch, 'images');
    await writeImageFolder(
      new SyntheticImages({ length: 8, numClasses: 4, size: 32, seed: 77 }),
      folder,
      {
        format: 'png',
      },
    );
    const files = readdirSync(folder).flatMap((c) =>
      readdirSync(join(folder, c)).map((f) => join(folder, c, f)),
    );
    const run = await runCli([
      'predict',
      ...files,
      '--weights',
      join(out, 'model.safetensors'),
      '--top-k',
      '4',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const results = run.lines.filter((l) => 'predictions' in l) as {
      image: string;
      predictions: { label: string; probability: number }[];
    }[];
    expect(results).toHaveLength(8);
    let right = 0;
    for (const r of results) {
      const total = r.predictions.reduce((a, p) => a + p.probability, 0);
      expect(total).toBeCloseTo(1, 5); // 4 classes, top-4: all of the softmax
      if (r.image.includes(`/${r.predictions[0]?.label}/`)) right++;
    }
    expect(right).toBeGreaterThanOrEqual(7);
  }, 60_000);

  it('visualize draws conv1 filters and the conv1/conv2 maps of an image', async () => {
    const image = join(scratch, 'one.png');
    await writeImageFolder(
      new SyntheticImages({ length: 1, numClasses: 4, seed: 3 }),
      join(scratch, 'one'),
      { format: 'png' },
    );
    const [cls] = readdirSync(join(scratch, 'one'));
    const [file] = readdirSync(join(scratch, 'one', cls as string));
    const { copyFileSync } = await import('node:fs');
    copyFileSync(join(scratch, 'one', cls as string, file as string), image);
    const run = await runCli([
      'visualize',
      '--weights',
      join(out, 'model.safetensors'),
      '--image',
      image,
      '--out',
      join(scratch, 'vis'),
      '--json',
    ]);
    expect(run.code).toBe(0);
    // conv1 keeps 32x32 (16 maps), conv2 works on 15x15 (32 maps): 16 per row.
    const conv1 = await sharp(join(scratch, 'vis', 'one-conv1.png')).metadata();
    expect([conv1.width, conv1.height]).toEqual([16 * (32 * 2 + 2) + 2, 32 * 2 + 4]);
    const conv2 = await sharp(join(scratch, 'vis', 'one-conv2.png')).metadata();
    expect([conv2.width, conv2.height]).toEqual([16 * (15 * 3 + 2) + 2, 2 * (15 * 3 + 2) + 2]);
    // Not blank: the maps vary (a dead or constant map would be one grey).
    for (const name of ['conv1-filters.png', 'one-conv1.png', 'one-conv2.png'])
      expect((await pixels(join(scratch, 'vis', name))).variance, name).toBeGreaterThan(500);
  }, 60_000);
});

describe('gpunet demo and bench', () => {
  it('demo --epochs 1 says the backend in one line, trains, writes its files and classifies the 8 held-out images', async () => {
    const dir = join(scratch, 'demo');
    const run = await runCli(['demo', '--epochs', '1', '--out', dir]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    // One line about backends (the passed-over ones only under --verbose).
    // The CLI turns on the fused multiply-add build (relaxed SIMD) before the backend loads.
    expect(lines[0]).toMatch(/^backend: wasm \(WebAssembly SIMD with FMA, \d+ threads?\)/);
    expect(lines.slice(1).some((l) => l.startsWith('  passed over'))).toBe(false);
    const epoch = lines.find((l) => l.startsWith('epoch 1:')) ?? '';
    // 8 classes, chance 12.5%: one epoch of 4,096 images already reaches well above it.
    expect(Number(/val top-1 ([\d.]+)%/.exec(epoch)?.[1])).toBeGreaterThan(50);
    const heldOut = lines.slice(
      lines.indexOf('Held-out images:') + 1,
      lines.indexOf('Held-out images:') + 9,
    );
    expect(heldOut).toHaveLength(8);
    for (const [i, line] of heldOut.entries())
      expect(line).toMatch(new RegExp(`^  #${i} \\S+ +-> \\S+ +\\d+\\.\\d%`));
    for (const f of [
      'checkpoint.safetensors',
      'model.safetensors',
      'curves.png',
      'conv1-filters.png',
    ])
      expect(existsSync(join(dir, f)), f).toBe(true);
  }, 300_000);

  it('bench --model mini measures inference and a training step in images per second', async () => {
    const run = await runCli(['bench', '--model', 'mini', '--seconds', '0.05', '--json']);
    expect(run.code).toBe(0);
    const bench = run.lines.find((l) => l.event === 'bench') as {
      model: string;
      backend: string;
      imagesPerSecond: Record<string, number>;
      classes: number;
    };
    expect(bench).toMatchObject({ model: 'mini', backend: 'wasm', classes: 10 });
    expect(Object.keys(bench.imagesPerSecond)).toEqual([
      'inference b1',
      'inference b16',
      'train step b16',
    ]);
    for (const value of Object.values(bench.imagesPerSecond)) {
      expect(Number.isFinite(value)).toBe(true);
      expect(value).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('gpunet on other data and commands', () => {
  it("summary --model paper counts 60,965,224 parameters with the paper's conv1 output", async () => {
    const run = await runCli(['summary', '--model', 'paper', '--json']);
    expect(run.code).toBe(0);
    const summary = run.lines[0] as {
      totalParams: number;
      rows: { name: string; outputShape: number[] }[];
    };
    expect(summary.totalParams).toBe(60_965_224);
    expect(summary.rows.find((r) => r.name === 'features.0')?.outputShape).toEqual([1, 96, 55, 55]);
  }, 60_000);

  it('trains the mini model on MNIST-layout IDX files (gzipped), adapting to 1 channel and 28 px', async () => {
    const dir = join(scratch, 'idx');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    // Digit-like strokes: class k is a bar at angle k * 45 degrees (4 classes), 28x28 grey.
    const write = (prefix: string, count: number, seed: number) => {
      const images = Buffer.alloc(16 + count * 784);
      images.writeUInt32BE(0x803, 0);
      images.writeUInt32BE(count, 4);
      images.writeUInt32BE(28, 8);
      images.writeUInt32BE(28, 12);
      const labels = Buffer.alloc(8 + count);
      labels.writeUInt32BE(0x801, 0);
      labels.writeUInt32BE(count, 4);
      let state = seed;
      const random = () => {
        state = (state * 1103515245 + 12345) % 2 ** 31;
        return state / 2 ** 31;
      };
      for (let i = 0; i < count; i++) {
        const label = i % 4;
        labels[8 + i] = label;
        const angle = (label * Math.PI) / 4;
        const [cx, cy] = [10 + 8 * random(), 10 + 8 * random()];
        for (let y = 0; y < 28; y++)
          for (let x = 0; x < 28; x++) {
            const d = Math.abs(-(x - cx) * Math.sin(angle) + (y - cy) * Math.cos(angle));
            const along = Math.abs((x - cx) * Math.cos(angle) + (y - cy) * Math.sin(angle));
            images[16 + i * 784 + y * 28 + x] =
              d < 1.5 && along < 9 ? 255 : Math.floor(40 * random());
          }
      }
      writeFileSync(join(dir, `${prefix}-images-idx3-ubyte.gz`), gzipSync(images));
      writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte.gz`), gzipSync(labels));
    };
    write('train', 400, 1);
    write('t10k', 100, 2);
    const run = await runCli([
      'train',
      '--data',
      `idx:${dir}`,
      '--epochs',
      '2',
      '--json',
      '--out',
      join(scratch, 'idx-run'),
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const last = epochs(run.lines).at(-1) as { valTop1: number };
    expect(last.valTop1).toBeGreaterThanOrEqual(0.9);
    const { readFileSync } = await import('node:fs');
    const config = JSON.parse(readFileSync(join(scratch, 'idx-run', 'run.json'), 'utf8')).config;
    expect(config.model).toEqual({ variant: 'mini', numClasses: 10, inputSize: 28, inChannels: 1 });
  }, 120_000);

  it('Ctrl-C saves a checkpoint and exits with 130', async () => {
    const dir = join(scratch, 'interrupt');
    const run = await runCli(
      [
        'train',
        '--data',
        'synthetic:train=2048,val=64,classes=4',
        '--epochs',
        '20',
        '--json',
        '--out',
        dir,
      ],
      (line, child) => {
        if (line.includes('"event":"epoch"')) child.kill('SIGINT');
      },
    );
    expect(run.code).toBe(130);
    const stop = run.lines.find((l) => l.event === 'interrupted') as {
      checkpoint: string;
      epoch: number;
    };
    expect(stop.epoch).toBeGreaterThanOrEqual(1);
    expect(existsSync(stop.checkpoint)).toBe(true);
    expect(epochs(run.lines).length).toBeLessThan(20);
  }, 120_000);

  it.each([
    [
      ['predict', 'missing.png', '--weights', 'missing.safetensors'],
      /--weights missing.safetensors: no such file/,
    ],
    [['train', '--data', 'idx:/no/such/dir'], /--data idx:\/no\/such\/dir: no such directory/],
    [['train', '--data', 'mnist'], /--data 'mnist': expected synthetic/],
    [['train', '--epochs', '0'], /--epochs must be a positive integer, got 0/],
    [['train', '--bogus'], /unknown option '--bogus'/],
    [
      ['train', '--backend', 'metal'],
      /Allowed choices are auto, webgpu, webgl2, webgl, headlessgl, wasm, reference\./,
    ],
    // gpu.js's test modes are not offered.
    [['train', '--backend', 'webasm'], /argument 'webasm' is invalid. Allowed choices are auto,/],
    [['train', '--backend', 'webgl2'], /webgl2 runs only in a browser/],
  ])(
    'bad input %j exits 2 with one line naming the problem',
    async (args, message) => {
      const run = await runCli(args);
      expect(run.code).toBe(2);
      // One line on stderr, naming the problem (commander adds a usage hint line for its own
      // errors), and no stack trace anywhere.
      const lines = run.stderr
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('(run with --help'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(run.stderr + run.stdout).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
    },
    60_000,
  );

  it('refuses weights that do not fit the model, naming the file', async () => {
    const fixture = new URL('../../../../packages/alexnet/fixtures/', import.meta.url);
    const { readdirSync: list } = await import('node:fs');
    const pth = list(fixture).find((f) => f.endsWith('.pth'));
    expect(pth).toBeDefined();
    // A torchvision-layout file (its widths are read from its shapes) loaded as the paper model.
    const path = new URL(pth as string, fixture).pathname;
    const run = await runCli(['predict', path, '--weights', path, '--model', 'paper']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/torchvision_small\.pth does not fit the paper model/);
  }, 60_000);
});
