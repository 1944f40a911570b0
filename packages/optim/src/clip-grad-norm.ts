import {
  abs,
  add,
  div,
  max,
  maximum,
  minimum,
  mul,
  noGrad,
  scalar,
  sqrt,
  sum,
  type Tensor,
  tidy,
} from '@gpunet/tensor';

/**
 * Rescales the gradients of `params` in place so that their global norm is at most `maxNorm`,
 * like `torch.nn.utils.clip_grad_norm_`: with `total` the norm of all gradients concatenated,
 * every gradient is multiplied by `min(1, maxNorm / (total + 1e-6))`. Parameters without a
 * gradient are skipped. Returns the total norm before clipping as a scalar tensor (read it with
 * `await norm.item()`, then dispose it); it stays on the device, so clipping needs no readback.
 *
 * @param normType 2 (default) for the Euclidean norm, or Infinity for the largest |g|.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  if (!(maxNorm >= 0)) throw new RangeError(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  if (normType !== 2 && normType !== Number.POSITIVE_INFINITY) {
    throw new RangeError(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  }
  const withGrad = [...params].filter((p) => p.grad !== null);
  return noGrad(() =>
    tidy(() => {
      let total: Tensor | null = null;
      for (const p of withGrad) {
        const g = p.grad as Tensor;
        const part = normType === 2 ? sum(mul(g, g)) : max(abs(g));
        total = total === null ? part : normType === 2 ? add(total, part) : maximum(total, part);
      }
      if (total === null) return scalar(0);
      const norm = normType === 2 ? sqrt(total) : total;
      const coefficient = minimum(div(maxNorm, add(norm, 1e-6)), 1);
      for (const p of withGrad) {
        const old = p.grad as Tensor;
        p.grad = mul(old, coefficient).keep();
        old.dispose();
      }
      return norm;
    }),
  );
}
