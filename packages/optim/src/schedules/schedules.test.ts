import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Tensor, tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { SGD } from '../sgd.js';
import { CosineWarmupLR } from './cosine-warmup-lr.js';
import type { LRScheduler } from './lr-scheduler.js';
import { MultiStepLR } from './multi-step-lr.js';
import { ReduceLROnPlateau } from './reduce-lr-on-plateau.js';
import { StepLR } from './step-lr.js';

const here = dirname(fileURLToPath(import.meta.url));
const reference = JSON.parse(
  readFileSync(join(here, '..', '..', 'fixtures', 'torch_reference.json'), 'utf8'),
).schedules as Record<string, number[]>;

const made: Tensor[] = [];
function optimizer(lr = 0.1): SGD {
  const w = tensor([0]);
  w.requiresGrad = true;
  made.push(w);
  return new SGD([w], { lr });
}
afterEach(() => {
  for (const t of made.splice(0)) t.dispose();
});

function lrsOf(scheduler: LRScheduler, steps: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    scheduler.step();
    out.push(scheduler.getLastLr()[0]);
  }
  return out;
}

describe('learning-rate schedules', () => {
  it('StepLR(stepSize 3, gamma 0.5) matches PyTorch over 12 epochs', () => {
    const s = new StepLR(optimizer(), { stepSize: 3, gamma: 0.5 });
    expect(s.getLastLr()).toEqual([0.1]);
    assertClose(lrsOf(s, 12), reference.stepLR, { atol: 1e-12, rtol: 1e-12 });
  });

  it('MultiStepLR(milestones [2, 5, 9]) matches PyTorch over 12 epochs', () => {
    const s = new MultiStepLR(optimizer(), { milestones: [2, 5, 9], gamma: 0.1 });
    assertClose(lrsOf(s, 12), reference.multiStepLR, { atol: 1e-12, rtol: 1e-9 });
  });

  it('CosineWarmupLR without warm-up equals CosineAnnealingLR(T_max 10, eta_min 0.001)', () => {
    const s = new CosineWarmupLR(optimizer(), { totalSteps: 10, minLr: 0.001 });
    assertClose(lrsOf(s, 10), reference.cosineAnnealingLR, { atol: 1e-12, rtol: 1e-9 });
  });

  it('CosineWarmupLR rises linearly over the warm-up, then follows the half cosine to minLr', () => {
    const s = new CosineWarmupLR(optimizer(1), {
      warmupSteps: 4,
      totalSteps: 12,
      warmupStartFactor: 0.2,
      minLr: 0.1,
    });
    expect(s.getLastLr()[0]).toBeCloseTo(0.2, 12);
    const expected = [
      0.4,
      0.6,
      0.8,
      1,
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((k) => 0.1 + (0.9 * (1 + Math.cos((Math.PI * k) / 8))) / 2),
      0.1,
    ];
    assertClose(lrsOf(s, 13), expected, { atol: 1e-12, rtol: 1e-9 });
  });

  it('ReduceLROnPlateau (min, rel threshold 0.01, patience 2) matches PyTorch on a plateauing metric', () => {
    const opt = optimizer();
    const s = new ReduceLROnPlateau(opt, {
      mode: 'min',
      factor: 0.5,
      patience: 2,
      threshold: 0.01,
    });
    const lrs = reference.plateauMetrics.map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    assertClose(lrs, reference.reduceLROnPlateau, { atol: 1e-12, rtol: 1e-9 });
  });

  it('ReduceLROnPlateau (max, abs threshold, cooldown 2, minLr) matches PyTorch', () => {
    const opt = optimizer();
    const s = new ReduceLROnPlateau(opt, {
      mode: 'max',
      factor: 0.1,
      patience: 1,
      threshold: 0.02,
      thresholdMode: 'abs',
      cooldown: 2,
      minLr: 0.0005,
    });
    const lrs = reference.plateauMetrics.map((m) => {
      s.step(m);
      return opt.paramGroups[0].lr;
    });
    assertClose(lrs, reference.reduceLROnPlateauMaxAbsCooldown, { atol: 1e-12, rtol: 1e-9 });
  });

  it('ReduceLROnPlateau divides by 10 like the paper when validation error stops improving', () => {
    const opt = optimizer(0.01);
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    for (const error of [0.6, 0.5, 0.5]) s.step(error);
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.001, 15);
  });

  it('a schedule restored from JSON continues exactly where it stopped', () => {
    const a = new CosineWarmupLR(optimizer(), { warmupSteps: 2, totalSteps: 10 });
    lrsOf(a, 4);
    const saved = JSON.parse(JSON.stringify(a.stateDict()));
    const rest = lrsOf(a, 3);
    const b = new CosineWarmupLR(optimizer(), { warmupSteps: 2, totalSteps: 10 });
    b.loadStateDict(saved);
    expect(lrsOf(b, 3)).toEqual(rest);

    const p1 = new ReduceLROnPlateau(optimizer(), { patience: 1 });
    for (const m of [1, 0.9, 0.95]) p1.step(m);
    const p2 = new ReduceLROnPlateau(optimizer(), { patience: 1 });
    p2.loadStateDict(JSON.parse(JSON.stringify(p1.stateDict())));
    expect(p2.stateDict()).toEqual({
      best: 0.9,
      numBadEpochs: 1,
      cooldownCounter: 0,
      lastEpoch: 3,
    });
  });

  it('refuses a stepSize of 0, naming it', () => {
    expect(() => new StepLR(optimizer(), { stepSize: 0 })).toThrow(
      'StepLR: stepSize must be a positive integer, got 0',
    );
  });
});
