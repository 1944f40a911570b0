import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { add, memory, mul, sum, type Tensor, tensor, tidy } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { describe, expect, it } from 'vitest';
import { Adam, type AdamOptions, AdamW } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { StepLR } from './schedules/step-lr.js';
import { SGD, type SGDOptions } from './sgd.js';

const here = dirname(fileURLToPath(import.meta.url));
interface Case<O> {
  options: Record<string, unknown> & O;
  w: number[][];
}
const reference = JSON.parse(
  readFileSync(join(here, '..', 'fixtures', 'torch_reference.json'), 'utf8'),
) as {
  problem: { a: number[]; b: number[]; w0: number[]; steps: number; halveLrBeforeStep: number };
  sgd: Record<string, Case<{ lr: number }>>;
  adam: Record<string, Case<{ lr: number }>>;
};
const { a, b, w0, steps, halveLrBeforeStep } = reference.problem;

/** grad = a * w + b, from loss = sum(0.5 a w^2 + b w), through backward(). */
function computeGrad(w: Tensor): void {
  tidy(() => {
    const loss = sum(add(mul(mul(w, w), mul(tensor(a), 0.5)), mul(w, tensor(b))));
    loss.backward();
  });
}

/** Runs the fixture's protocol: `steps` steps, lr halved before step `halveLrBeforeStep`. */
function run<O extends { lr: number }>(make: (params: Tensor[]) => Optimizer<O>): number[][] {
  const w = tensor(w0);
  w.requiresGrad = true;
  const optimizer = make([w]);
  const out: number[][] = [];
  for (let step = 1; step <= steps; step++) {
    if (step === halveLrBeforeStep) for (const g of optimizer.paramGroups) g.lr *= 0.5;
    optimizer.zeroGrad();
    computeGrad(w);
    optimizer.step();
    out.push([...w.dataSync()]);
  }
  optimizer.zeroGrad();
  optimizer.dispose();
  w.dispose();
  return out;
}

function fromTorch(options: Record<string, unknown>): Partial<SGDOptions & AdamOptions> {
  const { weight_decay, betas, ...rest } = options;
  return {
    ...rest,
    ...(weight_decay !== undefined ? { weightDecay: weight_decay as number } : {}),
    ...(betas ? { betas: betas as [number, number] } : {}),
  };
}

describe('SGD', () => {
  for (const [name, c] of Object.entries(reference.sgd)) {
    it(`rule 'pytorch' matches torch.optim.SGD (${name}) over 5 steps with an lr change`, () => {
      const ours = run((p) => new SGD(p, fromTorch(c.options) as SGDOptions));
      for (let i = 0; i < steps; i++)
        assertClose(ours[i], c.w[i], { atol: 1e-6, rtol: 1e-5 }, `step ${i + 1}`);
    });
  }

  it("rule 'paper' follows v <- m v - wd lr w - lr g; w <- w + v, step by step", () => {
    const m = 0.9;
    const wd = 0.01;
    const ours = run((p) => new SGD(p, { lr: 0.1, momentum: m, weightDecay: wd, rule: 'paper' }));
    // The paper's formula in float64, with the same lr halving.
    let w = [...w0];
    let v = [0, 0, 0];
    for (let step = 1; step <= steps; step++) {
      const lr = step >= halveLrBeforeStep ? 0.05 : 0.1;
      const g = w.map((wi, i) => a[i] * wi + b[i]);
      v = v.map((vi, i) => m * vi - wd * lr * w[i] - lr * g[i]);
      w = w.map((wi, i) => wi + v[i]);
      assertClose(ours[step - 1], w, { atol: 1e-6, rtol: 1e-5 }, `step ${step}`);
    }
  });

  it("rules 'paper' and 'pytorch' agree while lr is constant and differ once it changes", () => {
    const pytorch = reference.sgd.weight_decay.w;
    const paper = run(
      (p) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 0.01, rule: 'paper' }),
    );
    for (let i = 0; i < halveLrBeforeStep - 1; i++)
      assertClose(paper[i], pytorch[i], { atol: 1e-6 }, `step ${i + 1}`);
    // At step 4 (lr 0.1 -> 0.05), PyTorch steps w3 - lr' (m buf3 + g4) while the paper's velocity
    // still holds -lr buf3: w3 - m lr buf3 - lr' g4. The difference is -m (lr - lr') buf3, and
    // buf3 = (w2 - w3) / lr, so paper - pytorch = -0.9 * 0.5 * (w2 - w3).
    const k = halveLrBeforeStep - 1;
    const expected = pytorch[k].map((x, i) => x - 0.45 * (pytorch[k - 2][i] - pytorch[k - 1][i]));
    assertClose(paper[k], expected, { atol: 1e-6, rtol: 1e-5 }, 'step 4');
  });

  it("rule 'paper' with Nesterov takes w + m v - lr (g + wd w)", () => {
    const ours = run((p) => new SGD(p, { lr: 0.1, momentum: 0.5, nesterov: true, rule: 'paper' }));
    let w = [...w0];
    let v = [0, 0, 0];
    for (let step = 1; step <= steps; step++) {
      const lr = step >= halveLrBeforeStep ? 0.05 : 0.1;
      const g = w.map((wi, i) => a[i] * wi + b[i]);
      v = v.map((vi, i) => 0.5 * vi - lr * g[i]);
      w = w.map((wi, i) => wi + 0.5 * v[i] - lr * g[i]);
      assertClose(ours[step - 1], w, { atol: 1e-6, rtol: 1e-5 }, `step ${step}`);
    }
  });

  it('refuses a negative learning rate and nesterov without momentum, naming the option', () => {
    const w = tensor([1]);
    w.requiresGrad = true;
    expect(() => new SGD([w], { lr: -1 })).toThrow(/SGD: lr must be/);
    expect(() => new SGD([w], { lr: 0.1, nesterov: true })).toThrow(/nesterov needs momentum/);
    w.dispose();
  });

  it('leaks no tensor: memory().numTensors is the same after step 1 and step 10', () => {
    const w = tensor(w0);
    w.requiresGrad = true;
    const optimizer = new SGD([w], { lr: 0.1, momentum: 0.9, weightDecay: 1e-3, nesterov: true });
    const counts: number[] = [];
    for (let step = 1; step <= 10; step++) {
      optimizer.zeroGrad();
      computeGrad(w);
      optimizer.step();
      counts.push(memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    optimizer.zeroGrad();
    optimizer.dispose();
    w.dispose();
  });
});

describe('Adam and AdamW', () => {
  for (const [name, c] of Object.entries(reference.adam)) {
    it(`${name} matches PyTorch over 5 steps with an lr change`, () => {
      const Class = name.startsWith('adamw') ? AdamW : Adam;
      const ours = run((p) => new Class(p, fromTorch(c.options)));
      for (let i = 0; i < steps; i++)
        assertClose(ours[i], c.w[i], { atol: 1e-6, rtol: 1e-5 }, `step ${i + 1}`);
    });
  }

  it("Adam's first step moves every weight by lr against the gradient's sign (bias correction)", () => {
    const [first] = run((p) => new Adam(p, { lr: 0.01 }));
    const expected = w0.map((w, i) => w - 0.01 * Math.sign(a[i] * w + b[i]));
    assertClose(first, expected, { atol: 1e-6 });
  });

  it('leaks no tensor across AdamW steps with amsgrad', () => {
    const w = tensor(w0);
    w.requiresGrad = true;
    const optimizer = new AdamW([w], { amsgrad: true });
    const counts: number[] = [];
    for (let step = 1; step <= 6; step++) {
      optimizer.zeroGrad();
      computeGrad(w);
      optimizer.step();
      counts.push(memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    optimizer.zeroGrad();
    optimizer.dispose();
    w.dispose();
  });
});

describe('parameter groups', () => {
  it('apply each group its own options, and schedules scale each group from its own base lr', () => {
    const weight = tensor([1, 1]);
    const bias = tensor([1]);
    weight.requiresGrad = true;
    bias.requiresGrad = true;
    const optimizer = new SGD([{ params: [weight] }, { params: [bias], lr: 0.5, weightDecay: 0 }], {
      lr: 0.1,
      weightDecay: 0.5,
    });
    weight.grad = tensor([1, 2]).keep();
    bias.grad = tensor([1]).keep();
    optimizer.step();
    // weight: w - 0.1 (g + 0.5 w); bias: b - 0.5 g.
    assertClose(weight.dataSync(), [1 - 0.1 * 1.5, 1 - 0.1 * 2.5]);
    assertClose(bias.dataSync(), [0.5]);
    const schedule = new StepLR(optimizer, { stepSize: 1, gamma: 0.1 });
    schedule.step();
    assertClose(schedule.getLastLr(), [0.01, 0.05], { atol: 1e-12 });
    optimizer.zeroGrad();
    weight.dispose();
    bias.dispose();
  });

  it('refuses a parameter listed twice and an empty list', () => {
    const w = tensor([1]);
    w.requiresGrad = true;
    expect(() => new SGD([{ params: [w] }, { params: [w] }], { lr: 0.1 })).toThrow(
      'SGD: a parameter [1] appears twice',
    );
    expect(() => new Adam([])).toThrow('Adam: got an empty parameter list');
    w.dispose();
  });
});

describe('optimizer state dicts', () => {
  it('resuming from stateDict() after 3 steps gives the same weights as 5 uninterrupted steps', () => {
    const make = (p: Tensor[]) => new Adam(p, { lr: 0.1, amsgrad: true });
    const uninterrupted = run(make);
    const w = tensor(w0);
    w.requiresGrad = true;
    const first = make([w]);
    for (let step = 1; step <= 3; step++) {
      first.zeroGrad();
      computeGrad(w);
      first.step();
    }
    const saved = first.stateDict();
    // Scalars survive JSON; buffers are tensors.
    expect(JSON.parse(JSON.stringify(saved.paramGroups))).toEqual([
      { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: true, params: [0] },
    ]);
    expect(saved.state[0].step).toBe(3);
    first.zeroGrad();
    first.dispose();
    const second = make([w]);
    second.loadStateDict(saved);
    for (const v of Object.values(saved.state[0])) if (typeof v !== 'number') v.dispose();
    for (let step = 4; step <= 5; step++) {
      if (step === halveLrBeforeStep) second.paramGroups[0].lr *= 0.5;
      second.zeroGrad();
      computeGrad(w);
      second.step();
    }
    assertClose(w.dataSync(), uninterrupted[4], { atol: 1e-7, rtol: 0 });
    second.zeroGrad();
    second.dispose();
    w.dispose();
  });

  it('loadStateDict names the parameter and shapes when a buffer does not fit', () => {
    const w = tensor([1, 2]);
    w.requiresGrad = true;
    const optimizer = new SGD([w], { lr: 0.1, momentum: 0.9 });
    const wrong = tensor([1, 2, 3]);
    expect(() =>
      optimizer.loadStateDict({
        state: { 0: { momentumBuffer: wrong } },
        paramGroups: [{ lr: 0.1, params: [0] }],
      }),
    ).toThrow(
      "SGD.loadStateDict: state 'momentumBuffer' of parameter 0 is [3] but the parameter is [2]",
    );
    wrong.dispose();
    w.dispose();
  });
});
