// The two timed steps of the AlexNet benchmark, shared by the Node run (alexnet.mjs) and the
// browser page (browser-entry.mjs): inference read back with `await data()`, and one training
// step (forward, cross-entropy, backward, the paper's SGD step) at batch 16.
import { paperOptimizer } from '@gpunet/alexnet';
import { crossEntropy, noGrad, tidy } from '@gpunet/tensor';

/** `infer(batch)` runs `xs[batch]`; `train()` steps on `xs[16]` with `labels`. */
export function gpunetSteps(model, xs, labels) {
  const { optimizer } = paperOptimizer(model);
  const infer = async (batch) => {
    const y = noGrad(() => model.forward(xs[batch]));
    await y.data();
    y.dispose();
  };
  const train = async () => {
    model.train();
    const loss = tidy(() => {
      const l = crossEntropy(model.forward(xs[16]), labels);
      l.backward();
      return l;
    });
    optimizer.step();
    optimizer.zeroGrad();
    await loss.data();
    loss.dispose();
    model.eval();
  };
  return { infer, train, optimizer };
}
