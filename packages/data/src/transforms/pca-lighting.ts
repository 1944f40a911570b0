import type { Generator } from '@gpunet/tensor';
import { type Image, stridesOf } from '../image.js';
import type { Transform } from '../transform.js';
import { requireFloat } from './float-input.js';

/** `pcaLighting` options: the RGB covariance's eigenvalues and eigenvectors, and alpha's std. */
export interface PcaLightingOptions {
  /** Standard deviation of each alpha_i ~ N(0, alphaStd); the paper uses 0.1. */
  alphaStd?: number;
  /** Eigenvalues lambda_i of the RGB covariance. */
  eigenvalues?: [number, number, number];
  /** Eigenvectors as columns: `eigenvectors[c][i]` is channel c of eigenvector p_i. */
  eigenvectors?: [[number, number, number], [number, number, number], [number, number, number]];
}

/** ImageNet's RGB eigen-decomposition for values in [0, 1] (fb.resnet.torch, used widely). */
export const IMAGENET_PCA = Object.freeze({
  eigenvalues: [0.2175, 0.0188, 0.0045] as [number, number, number],
  eigenvectors: [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.814],
    [-0.5836, -0.6948, 0.4203],
  ] as [[number, number, number], [number, number, number], [number, number, number]],
});

/**
 * The RGB offset `sum_i p_i * alpha_i * lambda_i` for given alphas (paper section 4.1).
 * `offset[c] = sum_i eigenvectors[c][i] * alphas[i] * eigenvalues[i]`.
 */
export function pcaLightingOffset(
  alphas: readonly number[],
  eigenvalues: readonly number[] = IMAGENET_PCA.eigenvalues,
  eigenvectors: readonly (readonly number[])[] = IMAGENET_PCA.eigenvectors,
): [number, number, number] {
  const offset: [number, number, number] = [0, 0, 0];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 3; i++) offset[c] += eigenvectors[c][i] * alphas[i] * eigenvalues[i];
  }
  return offset;
}

/**
 * The paper's PCA colour augmentation ("lighting" noise, section 4.1): draws alpha_i ~ N(0, 0.1)
 * once per image (three normals from the sample's generator) and adds
 * `sum_i p_i * alpha_i * lambda_i` to every RGB pixel. Expects a float RGB image in [0, 1]
 * (after `toTensor`); values are not clamped.
 */
export function pcaLighting(options: PcaLightingOptions = {}): Transform {
  const alphaStd = options.alphaStd ?? 0.1;
  const eigenvalues = options.eigenvalues ?? IMAGENET_PCA.eigenvalues;
  const eigenvectors = options.eigenvectors ?? IMAGENET_PCA.eigenvectors;
  return {
    name: 'pcaLighting',
    options: {
      alphaStd,
      eigenvalues: [...eigenvalues],
      eigenvectors: eigenvectors.map((row) => [...row]),
    },
    apply(image: Image, random: Generator): Image {
      const input = requireFloat('pcaLighting', image);
      if (image.channels !== 3)
        throw new RangeError(`pcaLighting: expects 3 (RGB) channels, got ${image.channels}`);
      const alphas = [
        random.normal() * alphaStd,
        random.normal() * alphaStd,
        random.normal() * alphaStd,
      ];
      if (alphaStd === 0) return image;
      const offset = pcaLightingOffset(alphas, eigenvalues, eigenvectors);
      const out = new Float32Array(input.length);
      const s = stridesOf(image);
      const pixels = image.width * image.height;
      for (let c = 0; c < 3; c++) {
        const o = offset[c];
        for (let p = 0; p < pixels; p++) {
          const i = c * s.c + p * s.x;
          out[i] = input[i] + o;
        }
      }
      return { ...image, data: out };
    },
  };
}
