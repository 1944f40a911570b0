// The README's example. Run: pnpm --filter @gpunet/layers build && node packages/layers/examples/readme.mjs

import {
  Conv2d,
  Flatten,
  Linear,
  MaxPool2d,
  ReLU,
  readSafetensors,
  Sequential,
  writeSafetensors,
} from '@gpunet/layers';
import { randn } from '@gpunet/tensor';

const net = new Sequential(
  new Conv2d(3, 8, 3, { padding: 1 }),
  new ReLU(),
  new MaxPool2d(3, { stride: 2 }),
  new Flatten(),
  new Linear(8 * 7 * 7, 10),
);
net.summary([1, 3, 16, 16]); // prints each layer's output shape and parameter count
console.log(net.forward(randn([2, 3, 16, 16])).shape); // [2, 10]

const bytes = await writeSafetensors(net.stateDict()); // Uint8Array
const copy = new Sequential(
  new Conv2d(3, 8, 3, { padding: 1 }),
  new ReLU(),
  new MaxPool2d(3, { stride: 2 }),
  new Flatten(),
  new Linear(392, 10),
);
console.log(copy.loadStateDict(readSafetensors(bytes).tensors).loaded); // [ '0.weight', '0.bias', '4.weight', '4.bias' ]
