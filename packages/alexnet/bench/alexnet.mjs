// @gpunet/alexnet models end to end: images/s for inference at batch 1 and 16 and for a training
// step (forward, cross-entropy, backward, the paper's SGD step) at batch 16, for the 'paper'
// (227x227) and 'torchvision' (224x224) variants, on the reference and wasm backends.
// Run after `pnpm build`: pnpm --filter @gpunet/alexnet bench [-- --backends wasm]
// The reference backend is plain loops: expect seconds per image and minutes per training step.
// TF.js building the same paper network from its ops on its wasm backend is measured beside the
// wasm backend in packages/wasm/bench/alexnet.mjs; this file does not repeat it (see docs/alexnet.md).
import { availableParallelism } from 'node:os';
import { alexnet, paperOptimizer } from '@gpunet/alexnet';
import { crossEntropy, Generator, noGrad, randn, setBackend, tensor, tidy } from '@gpunet/tensor';
import '@gpunet/wasm';

const argument = process.argv.indexOf('--backends');
const backends = argument > 0 ? process.argv[argument + 1].split(',') : ['wasm', 'reference'];

function imagesPerSecond(step, batch, seconds = 2) {
  step(); // warm-up
  let count = 0;
  const start = performance.now();
  while (count < 2 || performance.now() - start < seconds * 1000) {
    step();
    count++;
  }
  return (batch * count) / ((performance.now() - start) / 1000);
}

const rows = [];
for (const backend of backends) {
  await setBackend(backend);
  for (const variant of ['paper', 'torchvision']) {
    const model = alexnet({ variant, seed: 0 });
    const size = model.options.inputSize;
    const generator = new Generator(1);
    const row = { backend, variant };
    model.eval();
    for (const batch of [1, 16]) {
      const x = randn([batch, 3, size, size], { generator });
      row[`inference ${batch}`] = imagesPerSecond(
        () => tidy(() => void noGrad(() => model.forward(x)).dataSync()),
        batch,
      );
      x.dispose();
    }
    model.train();
    const { optimizer } = paperOptimizer(model);
    const x = randn([16, 3, size, size], { generator });
    const y = tensor(
      Array.from({ length: 16 }, (_, i) => (i * 61) % 1000),
      [16],
      { dtype: 'int32' },
    );
    row['train 16'] = imagesPerSecond(() => {
      tidy(() => crossEntropy(model.forward(x), y).backward());
      optimizer.step();
      optimizer.zeroGrad();
    }, 16);
    optimizer.dispose();
    for (const t of [x, y, ...model.parameters()]) t.dispose();
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
console.log(`\nimages/s on ${availableParallelism()} cores (Node ${process.version})`);
console.table(
  rows.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? v.toFixed(2) : v]),
    ),
  ),
);
