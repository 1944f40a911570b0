// Paper AlexNet training steps (forward, cross-entropy, backward, the paper's SGD with momentum
// and weight decay) at batch 32 and at the paper's batch of 128: images/s and peak RSS of
// @gpunet/alexnet on the wasm backend beside PyTorch (Debian's python3-torch, same threads), each
// in its own process so that its peak RSS is its own, back to back in one run.
// Run: pnpm --filter @gpunet/alexnet bench:train [-- --batches 32,128] [-- --steps 2] [-- --rounds 1] [-- --write]
// With --mini (`bench:mini`): the mini AlexNet as `gpunet train --data idx:<Fashion-MNIST>`
// builds it (1x28x28 images, 10 classes, batch 32, the same recipe), steps for about 5 s, in 5
// alternating rounds whose medians it compares.
// The PyTorch peer is the wasm package's bench/alexnet_torch.py (the same networks).
// PyTorch runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (they slow OpenBLAS on some
// machines here); the table prints what it ran with.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBenchSection } from './doc.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const python = '/usr/bin/python3';
const option = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : fallback;
};

if (process.argv[2] === '--child') {
  // One runtime, one model, one batch: two warm-up steps, then `steps` timed ones; JSON on stdout.
  const [variant, batch, steps] = [
    process.argv[3],
    Number(process.argv[4]),
    Number(process.argv[5]),
  ];
  // First: lets Node 20 run the wasm backend's fused multiply-add build, as the gpunet CLI does.
  await import('@gpunet/wasm/relaxed-simd');
  const { alexnet, paperOptimizer } = await import('@gpunet/alexnet');
  const { crossEntropy, Generator, getBackend, randn, setBackend, tensor, tidy } = await import(
    '@gpunet/tensor'
  );
  await import('@gpunet/wasm');
  await setBackend('wasm');
  const mini = variant === 'mini';
  const model = mini
    ? alexnet({ variant: 'mini', inChannels: 1, inputSize: 28, numClasses: 10 })
    : alexnet({ variant: 'paper' });
  const { optimizer } = paperOptimizer(model);
  const generator = new Generator(1);
  const images = randn(mini ? [batch, 1, 28, 28] : [batch, 3, 227, 227], { generator });
  const labels = tensor(
    Int32Array.from({ length: batch }, () => generator.integer(mini ? 10 : 1000)),
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
  // Two warm-up steps: the second is the first with a momentum buffer, and the heap reaches
  // its steady size over the first steps (as PyTorch's caching allocator does).
  await step();
  await step();
  const start = performance.now();
  for (let i = 0; i < steps; i++) await step();
  const seconds = (performance.now() - start) / 1000;
  const backend = getBackend();
  console.log(
    JSON.stringify({
      imagesPerSecond: (batch * steps) / seconds,
      peakRss: process.resourceUsage().maxRSS * 1024,
      heapHighWater: backend.heap.highWater,
      threads: backend.pool.size,
      fma: backend.heap.relaxedSimd,
    }),
  );
  process.exit(0);
}

const cores = availableParallelism();
const miniRun = process.argv.includes('--mini');
const batches = miniRun ? [32] : option('--batches', '32,128').split(',').map(Number);
// The mini's step takes about 50 ms: enough steps for about 5 s.
const steps = Number(option('--steps', miniRun ? '100' : '2'));
// The mini's figures move by up to 20% from one process to the next (PyTorch's more than
// gpunet's): it alternates the two runtimes for several rounds and compares the medians.
const rounds = Number(option('--rounds', miniRun ? '5' : '1'));
const loadStart = loadavg()[0];

function peerEnv() {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

const run = (command, args, env = process.env) =>
  JSON.parse(
    execFileSync(command, args, { env, maxBuffer: 1 << 20 })
      .toString()
      .trim()
      .split('\n')
      .pop(),
  );

const gib = (bytes) => (bytes / 2 ** 30).toFixed(2);
const lines = [
  `| ${miniRun ? 'mini AlexNet (1x28x28), batch' : 'batch'} | gpunet wasm (img/s) | PyTorch (img/s) | speed ratio | gpunet peak RSS (GiB) | PyTorch peak RSS (GiB) | RSS ratio | load (1 min) |${rounds > 1 ? ' each round, gpunet/PyTorch (img/s) |' : ''}`,
  `| --- | --- | --- | --- | --- | --- | --- | --- |${rounds > 1 ? ' --- |' : ''}`,
];
let peer = null;
let fma = false;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
for (const batch of batches) {
  const ourRuns = [];
  const peerRuns = [];
  for (let round = 0; round < rounds; round++) {
    const ours = run(process.execPath, [
      fileURLToPath(import.meta.url),
      '--child',
      miniRun ? 'mini' : 'paper',
      String(batch),
      String(steps),
    ]);
    fma = ours.fma;
    ourRuns.push(ours);
    peer = existsSync(python)
      ? run(
          python,
          [
            join(here, '../../wasm/bench/alexnet_torch.py'),
            miniRun ? 'train-mini' : 'train',
            String(cores),
            String(batch),
            String(steps),
          ],
          peerEnv(),
        )
      : null;
    if (peer) peerRuns.push(peer);
  }
  const speed = median(ourRuns.map((r) => r.imagesPerSecond));
  const peerSpeed = peerRuns.length ? median(peerRuns.map((r) => r.imagesPerSecond)) : null;
  const rss = Math.max(...ourRuns.map((r) => r.peakRss));
  const peerRss = peerRuns.length ? Math.max(...peerRuns.map((r) => r.peakRss)) : null;
  const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
  const each =
    rounds > 1
      ? ` | ${ourRuns.map((r, k) => `${r.imagesPerSecond.toFixed(0)}/${peerRuns[k]?.imagesPerSecond.toFixed(0) ?? 'n/a'}`).join(', ')}`
      : '';
  lines.push(
    `| ${batch} | ${speed.toFixed(2)} | ${peerSpeed ? peerSpeed.toFixed(2) : 'n/a'} | ${ratio(speed, peerSpeed)} | ${gib(rss)} | ${peerRss ? gib(peerRss) : 'n/a'} | ${ratio(rss, peerRss)} | ${loadavg()[0].toFixed(2)}${each} |`,
  );
  console.log(lines.at(-1));
}
const command = miniRun ? 'bench:mini' : 'bench:train';
const about = [
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, Node ${process.version}, with \`pnpm --filter @gpunet/alexnet ${command} -- --write\` (two warm-up steps, then ${steps} timed step${steps === 1 ? '' : 's'} per cell${rounds > 1 ? `; ${rounds} rounds, each runtime in a fresh process, alternating: the speeds are the medians of the rounds, the peak RSS their largest` : ''}).`,
  `gpunet wasm (${fma ? 'relaxed SIMD: fused multiply-add' : 'plain SIMD: no fused multiply-add'}) and PyTorch${peer ? ` ${peer.version} (${peer.threads} threads, BLAS ${(peer.blas ?? []).join(' ') || 'unknown'}, OPENBLAS_CORETYPE=${peer.OPENBLAS_CORETYPE ?? 'unset'}, OPENBLAS_L2_SIZE=${peer.OPENBLAS_L2_SIZE ?? 'unset'})` : ''} use ${cores} threads; each runs in its own process. Ratios are gpunet / PyTorch (speed above 1: gpunet is faster; RSS below 1: gpunet uses less).`,
  `Load average (1 min) at the start: ${loadStart.toFixed(2)}${loadStart > cores * 0.75 ? ' (other work shared the CPU: speeds are low and noisy, the ratios less so; peak RSS does not depend on load)' : ' (a quiet machine)'}.`,
];
console.log(['', ...about].join('\n'));

if (process.argv.includes('--write')) {
  writeBenchSection(
    miniRun
      ? '## @gpunet/wasm: mini AlexNet training (the Fashion-MNIST model)'
      : '## @gpunet/wasm: paper AlexNet training, batch 32 and 128',
    about,
    lines,
  );
}
