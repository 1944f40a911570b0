// The README's example. Run: pnpm --filter @gpunet/optim build && node packages/optim/examples/readme.mjs
import { ReduceLROnPlateau, SGD } from '@gpunet/optim';
import { mul, sum, tensor, tidy } from '@gpunet/tensor';

const w = tensor([1, -2, 0.5]);
w.requiresGrad = true;
// AlexNet's recipe: momentum 0.9, weight decay 0.0005, the paper's update rule, and the learning
// rate divided by 10 when the validation error stops improving.
const optimizer = new SGD([w], { lr: 0.01, momentum: 0.9, weightDecay: 0.0005, rule: 'paper' });
const scheduler = new ReduceLROnPlateau(optimizer, { mode: 'min', factor: 0.1, patience: 1 });
const validationErrors = [0.6, 0.5, 0.45, 0.45, 0.46, 0.4, 0.41, 0.42]; // one per epoch

for (const error of validationErrors) {
  for (let iteration = 0; iteration < 10; iteration++) {
    optimizer.zeroGrad();
    tidy(() => sum(mul(w, w)).backward()); // a toy loss, minimum at w = 0
    optimizer.step();
  }
  scheduler.step(error);
}
console.log(optimizer.paramGroups[0].lr); // 0.0001: divided by 10 after epochs 5 and 8
console.log(await w.data()); // moved from [1, -2, 0.5] towards 0
