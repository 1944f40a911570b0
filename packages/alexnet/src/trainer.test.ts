import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, memory, setBackend, type Tensor } from '@gpunet/tensor';
import { assertClose } from '@gpunet/tensor/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AlexNet,
  alexnet,
  type Batch,
  CheckpointError,
  decodeCheckpoint,
  disposeCheckpoint,
  encodeCheckpoint,
  NonFiniteLossError,
  paperOptimizer,
  syntheticBars,
  Trainer,
} from './index.js';
import { fileCheckpointer, loadCheckpoint } from './node.js';

const directory = await mkdtemp(join(tmpdir(), 'gpunet-alexnet-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

/** A small mini AlexNet: the reference backend trains it in a fraction of a second per epoch. */
/** webgpu (f32, GPU-grade transcendentals) beside webasm over a few training steps. */
const TOLERANCE = { atol: 1e-4, rtol: 1e-3 };

function tinyModel(seed: number): AlexNet {
  return alexnet({
    variant: 'mini',
    inputSize: 28,
    inChannels: 1,
    numClasses: 4,
    channels: [4, 8, 8, 8, 8],
    hidden: 16,
    seed,
  });
}

/** 48 images in 3 batches of 16, shuffled anew each epoch by `generator`. */
function shuffledLoader(generator: Generator): AsyncIterable<Batch> {
  return {
    async *[Symbol.asyncIterator]() {
      const batches = syntheticBars({ count: 48, batchSize: 16, seed: 5 });
      for (let i = batches.length - 1; i > 0; i--) {
        const j = generator.integer(i + 1);
        [batches[i], batches[j]] = [batches[j] as Batch, batches[i] as Batch];
      }
      yield* batches;
    },
  };
}

function setup(seed: number, saveTo?: string) {
  const model = tinyModel(seed);
  const { optimizer, scheduler } = paperOptimizer(model, { lr: 0.01 });
  const shuffle = new Generator(seed + 100);
  const trainer = new Trainer({
    model,
    optimizer,
    scheduler,
    epochs: 2,
    data: shuffledLoader(shuffle),
    validation: {
      [Symbol.iterator]: () => syntheticBars({ count: 16, seed: 9 })[Symbol.iterator](),
    },
    generators: { shuffle },
    saveCheckpoint: saveTo ? fileCheckpointer(saveTo) : undefined,
  });
  return { model, optimizer, trainer };
}

const values = (model: AlexNet) =>
  [...model.stateDict()].map(([k, t]) => [k, Array.from(t.dataSync())] as const);

describe('Trainer checkpoints', () => {
  it('2 epochs equal 1 epoch + save + resume into a fresh model + 1 epoch, bit for bit (reference backend, dropout and shuffling on)', async () => {
    const straight = setup(0);
    await straight.trainer.run();

    const path = join(directory, 'resume.safetensors');
    const first = setup(0, path);
    await first.trainer.runEpoch();
    expect(existsSync(`${path}.tmp`)).toBe(false); // written to .tmp, then renamed

    // A different seed: every parameter, buffer and generator must come from the checkpoint.
    const resumed = setup(123);
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.epoch).toBe(1);
    resumed.trainer.resume(checkpoint);
    disposeCheckpoint(checkpoint);
    await resumed.trainer.run();

    expect(resumed.trainer.epoch).toBe(2);
    expect(values(resumed.model)).toEqual(values(straight.model));
    expect(resumed.trainer.history).toEqual(straight.trainer.history);
    expect(resumed.optimizer.paramGroups[0]?.lr).toBe(straight.optimizer.paramGroups[0]?.lr);
    // And training actually changed the weights.
    expect(values(straight.model)).not.toEqual(values(tinyModel(0)));
  }, 60_000);

  it('sets the epoch of loaders that have setEpoch (as @gpunet/data DataLoader) on resume', async () => {
    const donor = setup(6);
    await donor.trainer.runEpoch();
    const checkpoint = decodeCheckpoint(await encodeCheckpoint(donor.trainer.checkpoint()));
    const epochs: number[] = [];
    const data = Object.assign(syntheticBars({ count: 16 }), {
      setEpoch: (e: number) => epochs.push(e),
    });
    const model = tinyModel(7);
    const trainer = new Trainer({
      model,
      optimizer: paperOptimizer(model).optimizer,
      data,
      epochs: 2,
    });
    trainer.resume(checkpoint);
    disposeCheckpoint(checkpoint);
    expect(epochs).toEqual([1]);
    expect(trainer.epoch).toBe(1);
  }, 60_000);

  it('leaves no tensor behind: an epoch with validation and a checkpoint keeps the tensor count', async () => {
    const path = join(directory, 'leak.safetensors');
    const run = setup(4, path);
    run.trainer.options.epochs = 3;
    await run.trainer.runEpoch(); // creates the momentum buffers
    const after1 = memory().numTensors;
    await run.trainer.runEpoch();
    expect(memory().numTensors).toBe(after1);
    await run.trainer.runEpoch();
    expect(memory().numTensors).toBe(after1);
  }, 60_000);

  it('stops on a non-finite loss with a clear message, before the weights change, keeping the last good checkpoint', async () => {
    const path = join(directory, 'guard.safetensors');
    const run = setup(1, path);
    await run.trainer.runEpoch();
    const good = values(run.model);
    run.optimizer.paramGroups[0]!.lr = 1e30; // paramGroups has one group: the model's parameters
    let error: unknown;
    try {
      await run.trainer.run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteLossError);
    const guard = error as NonFiniteLossError;
    expect(guard.message).toMatch(
      /^train: the loss is (NaN|Infinity|-Infinity) at epoch 2, batch [1-9] \(lr 1e\+30\); stopped before updating the weights\. The last good checkpoint is epoch 1\./,
    );
    expect(Number.isFinite(guard.loss)).toBe(false);
    const checkpoint = await loadCheckpoint(path);
    expect(checkpoint.epoch).toBe(1);
    const saved = [...checkpoint.model].map(([k, t]) => [k, Array.from(t.dataSync())] as const);
    expect(saved).toEqual(good);
    disposeCheckpoint(checkpoint);
  }, 60_000);

  it('encodes model, optimizer, schedule, generators and history, and refuses other files by name', async () => {
    const { trainer, model } = setup(2);
    await trainer.runEpoch();
    const live = trainer.checkpoint();
    const decoded = decodeCheckpoint(await encodeCheckpoint(live));
    expect(decoded.epoch).toBe(1);
    expect([...decoded.model.keys()]).toEqual([...model.stateDict().keys()]);
    expect(decoded.optimizer.paramGroups).toEqual(live.optimizer.paramGroups);
    const momentum = (state: typeof live) =>
      Object.values(state.optimizer.state).map((s) =>
        Object.fromEntries(
          Object.entries(s).map(([k, v]) => [
            k,
            typeof v === 'number' ? v : Array.from((v as Tensor).dataSync()),
          ]),
        ),
      );
    expect(momentum(decoded)).toEqual(momentum(live));
    expect(decoded.scheduler).toEqual(live.scheduler);
    expect(decoded.generators).toEqual(live.generators);
    expect(Object.keys(decoded.generators).sort()).toEqual(['model', 'shuffle']);
    expect(decoded.history).toEqual(trainer.history);
    disposeCheckpoint(decoded);
    const { writeSafetensors } = await import('@gpunet/layers');
    const other = await writeSafetensors(model.stateDict());
    expect(() => decodeCheckpoint(other)).toThrow(CheckpointError);
    expect(() => decodeCheckpoint(other)).toThrow(/not a training checkpoint/);
  }, 60_000);
});

describe('Trainer on a backend without synchronous reads', () => {
  it('trains on gpu.js webgpu (reads awaited) as on webasm, with validation and checkpoints', async () => {
    await import('@gpunet/kernels');
    const weights = async (model: AlexNet) =>
      Promise.all([...model.stateDict()].map(async ([k, t]) => [k, await t.data()] as const));
    const runOn = async (backend: string) => {
      await setBackend(backend);
      try {
        const path = join(directory, `${backend}.safetensors`);
        const run = setup(3, path);
        await run.trainer.run();
        const checkpoint = await readFile(path);
        const saved = decodeCheckpoint(checkpoint);
        const savedWeights = await Promise.all(
          [...saved.model].map(async ([k, t]) => [k, await t.data()] as const),
        );
        disposeCheckpoint(saved);
        return { history: run.trainer.history, weights: await weights(run.model), savedWeights };
      } finally {
        await setBackend('reference');
      }
    };
    // webgpu in Node: Dawn (SwiftShader without a GPU), set up by @gpunet/kernels.
    const onGpu = await runOn('webgpu');
    const expected = await runOn('webasm');
    expect(onGpu.history).toHaveLength(2);
    // Validation ran on the 16 images: top-1 is a count of them (NaN or a wrong divisor fails).
    expect(Number.isInteger((onGpu.history[1]?.valTop1 ?? Number.NaN) * 16)).toBe(true);
    const numbers = (h: typeof onGpu.history) =>
      h.flatMap((e) => [e.trainLoss, e.trainAccuracy, e.valTop1 ?? -1, e.valLoss ?? -1, e.lr]);
    assertClose(numbers(onGpu.history), numbers(expected.history), TOLERANCE, 'history');
    for (const [k, [name, values]] of onGpu.weights.entries()) {
      assertClose(values, expected.weights[k][1], TOLERANCE, name);
      // The checkpoint (written with awaited reads) holds the trained weights.
      expect(Array.from(onGpu.savedWeights[k][1])).toEqual(Array.from(values));
    }
    const initial = await weights(tinyModel(3));
    expect(Array.from(onGpu.weights[0][1])).not.toEqual(Array.from(initial[0][1]));
  }, 240_000);
});
