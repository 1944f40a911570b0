// The mini AlexNet's training step, as `gpunet train --model mini --data idx:<Fashion-MNIST>`
// builds it (1x28x28 images, 10 classes, batch 32, SGD momentum 0.9 and weight decay 5e-4):
// images/s of @gpunet/alexnet on the wasm backend beside PyTorch (Debian's python3-torch, the
// same network and recipe, same threads), each in its own process, back to back in one run.
// The step is model + loss + backward + optimizer on one batch held in memory (no data loader).
// Run: pnpm --filter @gpunet/alexnet bench:mini [-- --seconds 5] [-- --write]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const python = '/usr/bin/python3';
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};
const batch = 32;

if (process.argv[2] === '--child') {
  // First: lets Node 20 run the wasm backend's fused multiply-add build, as the gpunet CLI does.
  await import('@gpunet/wasm/relaxed-simd');
  const seconds = Number(process.argv[3]);
  const { alexnet, paperOptimizer } = await import('@gpunet/alexnet');
  const { crossEntropy, Generator, getBackend, randn, setBackend, tensor, tidy } = await import(
    '@gpunet/tensor'
  );
  await import('@gpunet/wasm');
  await setBackend('wasm');
  const model = alexnet({ variant: 'mini', inChannels: 1, inputSize: 28, numClasses: 10 });
  const { optimizer } = paperOptimizer(model);
  const generator = new Generator(1);
  const images = randn([batch, 1, 28, 28], { generator });
  const labels = tensor(
    Int32Array.from({ length: batch }, () => generator.integer(10)),
    [batch],
  );
  model.train();
  const step = async () => {
    const loss = tidy(() => {
      const l = crossEntropy(model.forward(images), labels);
      l.backward();
      return l;
    });
    optimizer.step();
    optimizer.zeroGrad();
    await loss.data();
    loss.dispose();
  };
  for (let i = 0; i < 3; i++) await step();
  let count = 0;
  const start = performance.now();
  while (count < 3 || performance.now() - start < seconds * 1000) {
    await step();
    count++;
  }
  const backend = getBackend();
  console.log(
    JSON.stringify({
      imagesPerSecond: (batch * count * 1000) / (performance.now() - start),
      threads: backend.pool.size,
      fma: backend.heap.relaxedSimd,
    }),
  );
  process.exit(0);
}

const cores = availableParallelism();
const seconds = Number(option('--seconds', '5'));
const loadStart = loadavg()[0];
const last = (out) => JSON.parse(out.toString().trim().split('\n').pop());
const ours = last(
  execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', String(seconds)]),
);
const env = { ...process.env };
delete env.OPENBLAS_CORETYPE;
delete env.OPENBLAS_L2_SIZE;
const peer = existsSync(python)
  ? last(
      execFileSync(
        python,
        [
          join(here, '../../wasm/bench/alexnet_torch.py'),
          'mini',
          String(cores),
          String(batch),
          String(seconds),
        ],
        { env },
      ),
    )
  : null;
const ratio = peer ? (ours.imagesPerSecond / peer.imagesPerSecond).toFixed(2) : 'n/a';
const lines = [
  '| model | gpunet wasm (img/s) | PyTorch (img/s) | ratio | load (1 min) |',
  '| --- | --- | --- | --- | --- |',
  `| mini AlexNet, 1x28x28, batch ${batch} | ${ours.imagesPerSecond.toFixed(0)} | ${peer ? peer.imagesPerSecond.toFixed(0) : 'n/a'} | ${ratio} | ${loadavg()[0].toFixed(2)} |`,
];
const about = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, with \`pnpm --filter @gpunet/alexnet bench:mini -- --write\` (three warm-up steps, then steps for ${seconds} s each).`,
  `gpunet wasm (${ours.threads} threads, ${ours.fma ? 'relaxed SIMD: fused multiply-add' : 'plain SIMD'}) and PyTorch${peer ? ` ${peer.version} (${peer.threads} threads, BLAS ${(peer.blas ?? []).join(' ') || 'unknown'}, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset)` : ' (not installed here)'}, each in its own process. Ratio: gpunet / PyTorch (above 1: gpunet is faster).`,
  `Load average (1 min) at the start: ${loadStart.toFixed(2)}${loadStart > cores * 0.5 ? ' (other work shared the CPU: multi-threaded PyTorch suffers most from it)' : ' (a quiet machine)'}.`,
];
console.log([...lines, '', ...about].join('\n'));

if (process.argv.includes('--write')) {
  const path = new URL('../../../docs/benchmarks.md', import.meta.url);
  const heading = '## @gpunet/wasm: mini AlexNet training (the Fashion-MNIST model)';
  const section = [heading, '', ...about, '', ...lines, ''].join('\n');
  let doc = readFileSync(path, 'utf8');
  const start = doc.indexOf(heading);
  if (start >= 0) {
    const end = doc.indexOf('\n## ', start + heading.length);
    doc = doc.slice(0, start) + section + (end >= 0 ? doc.slice(end + 1) : '');
  } else {
    doc = `${doc.trimEnd()}\n\n${section}`;
  }
  writeFileSync(path, doc);
  console.log(`wrote ${path.pathname}`);
}
