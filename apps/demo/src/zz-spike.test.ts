import { appendFileSync } from 'node:fs';
import { alexnet, paperOptimizer, Trainer } from '@gpunet/alexnet';
import { DataLoader } from '@gpunet/data';
import { setBackend } from '@gpunet/tensor';
import '@gpunet/wasm';
import { it } from 'vitest';
import { channelStats, parseDataSpec, transformFor } from './data.js';

it('spike', async () => {
  await setBackend('wasm');
  const lr = Number(process.env.H2_LR ?? 0.01);
  const warm = Number(process.env.H2_WARM ?? 0);
  const tag = process.env.H2_TAG ?? 'x';
  const epochs = Number(process.env.H2_EPOCHS ?? 4);
  const source = parseDataSpec('synthetic', { trainLength: 4096, valLength: 512, numClasses: 8, size: 32 });
  const stats = await channelStats(source.open('train', transformFor(source, { size: 32, mean: [], std: [], augment: true }, 'eval')));
  const pre = { size: 32, mean: stats.mean, std: stats.std, augment: true };
  const train = new DataLoader(source.open('train', transformFor(source, pre, 'train')), { batchSize: 32, shuffle: true, seed: 0 });
  const validation = new DataLoader(source.open('val', transformFor(source, pre, 'eval')), { batchSize: 64 });
  const model = alexnet({ variant: 'mini', numClasses: 8, inputSize: 32, inChannels: 3, seed: 0 });
  const { optimizer, scheduler } = paperOptimizer(model, { lr });
  let losses: number[] = [];
  let step = 0;
  const group = optimizer.paramGroups[0] as { lr: number };
  if (warm) group.lr = lr / warm;
  const trainer = new Trainer({
    model, optimizer, scheduler, data: train, validation, epochs,
    onBatch: (b) => {
      losses.push(b.loss);
      step++;
      if (warm && step < warm) group.lr = (lr * (step + 1)) / warm;
      else if (warm && step === warm) group.lr = lr;
    },
    onEpoch: (e) => {
      const big = losses.map((l, i) => [i, l] as const).filter(([, l]) => l > 3).map(([i, l]) => `${i}:${l.toFixed(1)}`);
      appendFileSync(`/tmp/h2/gp-${tag}.log`, `${tag} epoch ${e.epoch} mean ${e.trainLoss.toFixed(3)} max ${Math.max(...losses).toFixed(2)} val ${(100 * (e.valTop1 ?? 0)).toFixed(1)} lr ${e.lr} big ${big.slice(0, 12).join(' ')}\n`);
      losses = [];
    },
  });
  await trainer.run();
}, 3_600_000);
