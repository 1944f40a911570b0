/**
 * Test helper (not exported by the package): validation top-1 counted by hand, independently of
 * `evaluate()`, so that a test of the Trainer's `valTop1` compares two computations.
 */
import { noGrad, type Tensor } from '@gpunet/tensor';
import type { AlexNet } from '../alexnet.js';

export async function handTop1(
  model: AlexNet,
  data:
    | Iterable<{ images: Tensor; labels: Tensor }>
    | AsyncIterable<{ images: Tensor; labels: Tensor }>,
): Promise<number> {
  model.eval();
  let right = 0;
  let count = 0;
  for await (const { images, labels } of data) {
    const logits = noGrad(() => model.call(images));
    const values = logits.dataSync();
    const truth = labels.dataSync();
    const classes = logits.shape[1] as number;
    for (let i = 0; i < truth.length; i++) {
      const row = Array.from(values.slice(i * classes, (i + 1) * classes));
      if (row.indexOf(Math.max(...row)) === truth[i]) right++;
    }
    count += truth.length;
    logits.dispose();
  }
  model.train();
  return right / count;
}
