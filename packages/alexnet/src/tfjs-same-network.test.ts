import { mul, noGrad, randn, setBackend } from '@gpunet/tensor';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { stateDictArrays, tfjsAlexNet } from '../bench/tfjs-alexnet.mjs';
import { alexnet } from './index.js';

/**
 * The benchmark's peer (bench/tfjs-alexnet.mjs: AlexNet from TF.js ops, grouped convolutions as
 * split + conv + concat) is the same network as ours: with the same weights and input it gives the
 * same logits. Widths are shrunk to keep this fast; the layer structure, kernels, strides,
 * paddings, groups, LRN and pooling are the real ones.
 */
describe('the TF.js AlexNet of the benchmark computes the same function', () => {
  it.each(['paper', 'torchvision'] as const)(
    '%s',
    async (variant) => {
      await setBackend('reference');
      await tf.setBackend('cpu');
      const model = alexnet({
        variant,
        channels: [8, 16, 16, 16, 8],
        hidden: 32,
        numClasses: 10,
        init: 'pytorch',
        seed: 3,
      });
      model.eval();
      const size = model.options.inputSize;
      // Large inputs, so that LRN's sum of squares is comparable to its k = 2 (else any alpha passes).
      const x = mul(randn([2, 3, size, size]), 50);
      const ours = Array.from(await noGrad(() => model.forward(x)).data());
      const peer = tfjsAlexNet(variant, await stateDictArrays(model));
      const input = tf.transpose(tf.tensor4d(await x.data(), [2, 3, size, size]), [0, 2, 3, 1]);
      const logits = peer.forward(input as tf.Tensor4D);
      const theirs = Array.from(await logits.data());
      peer.dispose();
      tf.dispose([input, logits]);
      expect(theirs).toHaveLength(20);
      const scale = Math.max(...ours.map(Math.abs));
      expect(scale).toBeGreaterThan(1e-3); // not a degenerate all-zero output
      for (let i = 0; i < 20; i++)
        expect(Math.abs(theirs[i]! - ours[i]!)).toBeLessThan(1e-4 * Math.max(1, scale));
    },
    60_000,
  );
});
