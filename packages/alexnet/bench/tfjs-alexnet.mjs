// AlexNet built from TensorFlow.js ops, as a TF.js user would write it, with the weights of a
// gpunet AlexNet: the peer of the benchmark, and proven to be the same network by
// src/tfjs-same-network.test.ts (same weights and input -> same logits).
//
// TF.js is NHWC with HWIO filters and has no grouped convolution: each group is a split, a conv
// and a concat. LRN is tf.localResponseNormalization(x, 2, 2, 1e-4, 0.75), the paper's formula
// as written (alpha not divided by n). Before flattening into fc6, the activations are transposed
// back to NCHW so that fc6's weights (PyTorch's layout) apply unchanged.
import * as tf from '@tensorflow/tfjs-core';

/** The conv layers of each variant: state-dict prefix, stride, padding, groups, LRN, pool. */
const LAYOUTS = {
  paper: {
    convs: [
      ['features.0', 4, 0, 1, true, true],
      ['features.4', 1, 2, 2, true, true],
      ['features.8', 1, 1, 1, false, false],
      ['features.10', 1, 1, 2, false, false],
      ['features.12', 1, 1, 2, false, true],
    ],
    fcs: ['classifier.0', 'classifier.3', 'classifier.6'],
  },
  torchvision: {
    convs: [
      ['features.0', 4, 2, 1, false, true],
      ['features.3', 1, 2, 1, false, true],
      ['features.6', 1, 1, 1, false, false],
      ['features.8', 1, 1, 1, false, false],
      ['features.10', 1, 1, 1, false, true],
    ],
    fcs: ['classifier.1', 'classifier.4', 'classifier.6'],
  },
};

/**
 * Builds the TF.js network. `weights` maps state-dict keys to `{ values: Float32Array, shape }`
 * (PyTorch layout). Returns `{ forward(x NHWC) -> logits, variables, dispose() }`; with
 * `trainable`, the weights are tf.variables (for a training step).
 */
export function tfjsAlexNet(variant, weights, { trainable = false } = {}) {
  const layout = LAYOUTS[variant];
  if (!layout) throw new Error(`tfjsAlexNet: unknown variant ${variant}`);
  const make = (t) => (trainable ? tf.variable(t) : t);
  const convs = layout.convs.map(([key, stride, padding, groups, lrn, pool]) => {
    const w = weights.get(`${key}.weight`);
    const b = weights.get(`${key}.bias`);
    const [out, inPerGroup, kh, kw] = w.shape;
    const oihw = tf.tensor4d(w.values, w.shape);
    // OIHW -> per group HWIO.
    const filters = tf.split(oihw, groups, 0).map((part) => make(tf.transpose(part, [2, 3, 1, 0])));
    oihw.dispose();
    return {
      filters,
      bias: make(tf.tensor1d(b.values)),
      stride,
      padding,
      groups,
      lrn,
      pool,
      out,
      inPerGroup,
      kh,
      kw,
    };
  });
  const fcs = layout.fcs.map((key) => ({
    // [out, in] -> [in, out] for matMul.
    w: make(
      tf.transpose(
        tf.tensor2d(weights.get(`${key}.weight`).values, weights.get(`${key}.weight`).shape),
      ),
    ),
    b: make(tf.tensor1d(weights.get(`${key}.bias`).values)),
  }));
  const forward = (x) =>
    tf.tidy(() => {
      let h = x;
      for (const c of convs) {
        const pad =
          c.padding === 0
            ? 'valid'
            : [
                [0, 0],
                [c.padding, c.padding],
                [c.padding, c.padding],
                [0, 0],
              ];
        const parts = c.groups === 1 ? [h] : tf.split(h, c.groups, 3);
        const ys = parts.map((p, g) => tf.conv2d(p, c.filters[g], c.stride, pad));
        h = tf.relu(tf.add(c.groups === 1 ? ys[0] : tf.concat(ys, 3), c.bias));
        if (c.lrn) h = tf.localResponseNormalization(h, 2, 2, 1e-4, 0.75);
        if (c.pool) h = tf.maxPool(h, 3, 2, 'valid');
      }
      // torchvision's adaptive average pool to 6x6 is the identity at 224 px (pool5 is 6x6).
      h = tf.reshape(tf.transpose(h, [0, 3, 1, 2]), [h.shape[0], -1]);
      fcs.forEach((f, i) => {
        h = tf.add(tf.matMul(h, f.w), f.b);
        if (i < 2) h = tf.relu(h); // dropout is the identity at inference
      });
      return h;
    });
  const variables = [
    ...convs.flatMap((c) => [...c.filters, c.bias]),
    ...fcs.flatMap((f) => [f.w, f.b]),
  ];
  return {
    forward,
    variables,
    dispose: () => tf.dispose(variables),
  };
}

/** A gpunet model's state dict as plain arrays (read synchronously from a host backend). */
export async function stateDictArrays(model) {
  const out = new Map();
  for (const [key, t] of model.stateDict())
    out.set(key, { values: await t.data(), shape: t.shape });
  return out;
}
