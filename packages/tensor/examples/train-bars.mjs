// Trains a tiny conv net (conv -> relu -> max-pool -> linear) to tell vertical bars from
// horizontal ones, with @gpunet/tensor alone: tensors, autograd and a hand-written SGD step.
// Run: pnpm --filter @gpunet/tensor build && node packages/tensor/examples/train-bars.mjs
import {
  argmax,
  conv2d,
  crossEntropy,
  flatten,
  Generator,
  linear,
  maxPool2d,
  memory,
  mul,
  noGrad,
  randn,
  relu,
  tensor,
  tidy,
  zeros,
} from '@gpunet/tensor';

const generator = new Generator(2012);
const size = 8;
const count = 64;

// Class 0: a vertical bar; class 1: a horizontal bar; at a random place, with noise.
const pixels = new Float32Array(count * size * size);
const labelValues = new Int32Array(count);
for (let n = 0; n < count; n++) {
  const label = n % 2;
  const at = 1 + generator.integer(size - 2);
  labelValues[n] = label;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const onBar = label === 0 ? j === at : i === at;
      pixels[(n * size + i) * size + j] = (onBar ? 1 : 0) + 0.1 * generator.normal();
    }
  }
}
const images = tensor(pixels, [count, 1, size, size]);
const labels = tensor(labelValues, [count], { dtype: 'int32' });

const params = [
  mul(randn([4, 1, 3, 3], { generator }), 0.3), // conv weight
  zeros([4]), // conv bias
  mul(randn([2, 64], { generator }), 0.1), // linear weight
  zeros([2]), // linear bias
];
for (const p of params) {
  p.requiresGrad = true;
  p.keep();
}
const [convWeight, convBias, fcWeight, fcBias] = params;
const forward = (x) =>
  linear(
    flatten(
      maxPool2d(relu(conv2d(x, convWeight, { bias: convBias, padding: 1 })), { kernelSize: 2 }),
      1,
    ),
    fcWeight,
    fcBias,
  );

const started = performance.now();
for (let step = 1; step <= 40; step++) {
  const [loss, accuracy] = tidy(() => {
    const logits = forward(images);
    const l = crossEntropy(logits, labels);
    l.backward();
    noGrad(() => {
      for (const p of params) {
        p.assign(p.sub(p.grad.mul(0.5)));
        p.grad.dispose();
        p.grad = null;
      }
    });
    const predicted = argmax(logits, 1).dataSync();
    const correct = predicted.filter((c, i) => c === labelValues[i]).length;
    return [l.dataSync()[0], correct / count];
  });
  if (step === 1 || step % 5 === 0) {
    console.log(
      `step ${String(step).padStart(2)}  loss ${loss.toFixed(4)}  accuracy ${(accuracy * 100).toFixed(1)}%`,
    );
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `40 steps in ${seconds.toFixed(2)} s on the reference backend; live tensors: ${memory().numTensors}`,
);
