// torchvision's fine-tuning recipe in gpunet: start from a torchvision AlexNet checkpoint, replace
// the head for 4 classes, freeze the convolutional features and train the classifier only.
// Run from packages/alexnet after `pnpm build`: node examples/finetune.mjs [alexnet.pth]
// (default: the small-width torchvision-layout fixture, so it runs in seconds; its weights are
// random, not ImageNet's, so the accuracies only show the mechanics; for torchvision's
// own weights, save them with torch.save(torchvision.models.alexnet(weights='DEFAULT').state_dict(), 'alexnet.pth')
// and drop the channels/hidden options below.)
import { readFile } from 'node:fs/promises';
import { alexnet, freeze, loadPretrained, paperOptimizer, Trainer } from '@gpunet/alexnet';
import { readPth } from '@gpunet/layers';
import { Generator, randn, setBackend, tensor } from '@gpunet/tensor';
import '@gpunet/wasm';

await setBackend('wasm');
const path = process.argv[2] ?? new URL('../fixtures/torchvision_small.pth', import.meta.url);
const { tensors } = readPth(new Uint8Array(await readFile(path)));

// model = torchvision.models.alexnet(); model.load_state_dict(...);
// model.classifier[6] = nn.Linear(4096, 4)   -> one call: the head is re-initialized for 4 classes
const model = alexnet({
  variant: 'torchvision',
  numClasses: 4,
  ...(process.argv[2] ? {} : { channels: [16, 48, 96, 64, 64], hidden: 128 }),
});
console.log(loadPretrained(model, tensors)); // { head: 'classifier.6', replacedHead: true, ... }
// for p in model.features.parameters(): p.requires_grad = False
freeze(model, ['features']); // the same as model.features.requiresGrad_(false)
// optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.001, momentum=0.9)
const { optimizer } = paperOptimizer(model, { lr: 0.001 });

// Any (async) iterable of { images [N, 3, 224, 224], labels [N] } batches (in an app: an
// ImageFolder through @gpunet/data's DataLoader). Here: 4 classes of images, each brighter in
// one quadrant, with noise.
const batches = (count, seed) => ({
  *[Symbol.iterator]() {
    const generator = new Generator(seed);
    for (let start = 0; start < count; start += 8) {
      const classes = Array.from({ length: 8 }, (_, i) => (start + i + seed) % 4);
      const values = randn([8, 3, 224, 224], { generator }).dataSync();
      classes.forEach((k, n) => {
        for (let c = 0; c < 3; c++)
          for (let y = 0; y < 112; y++)
            for (let x = 0; x < 112; x++)
              values[((n * 3 + c) * 224 + y + 112 * (k >> 1)) * 224 + x + 112 * (k & 1)] += 2;
      });
      yield {
        images: tensor(values, [8, 3, 224, 224]),
        labels: tensor(classes, [8], { dtype: 'int32' }),
      };
    }
  },
});
const trainer = new Trainer({
  model,
  optimizer,
  epochs: 3,
  data: batches(64, 1),
  validation: batches(32, 2),
});
trainer.addEventListener('epoch', ({ detail }) =>
  console.log(
    `epoch ${detail.epoch}: loss ${detail.trainLoss.toFixed(3)}, val top-1 ${detail.valTop1}`,
  ),
);
await trainer.run();
