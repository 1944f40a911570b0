import { runKernel } from '../engine.js';
import { DTypeError, formatShape, ShapeError } from '../errors.js';
import { normalizeDim, normalizeDims } from '../internal/shape.js';
import type { Tensor } from '../tensor.js';

/**
 * A box of `x`: `size[i]` elements from `begin[i]` along each dim (missing entries: from 0,
 * and -1 or missing sizes: to the end), like `tf.slice`.
 */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[] = []): Tensor {
  if (begin.length > x.rank || size.length > x.rank) {
    throw new ShapeError(
      `slice: begin ${formatShape(begin)} / size ${formatShape(size)} have more entries than ${formatShape(x.shape)} has dims`,
    );
  }
  const b = x.shape.map((_, i) => begin[i] ?? 0);
  const s = x.shape.map((d, i) => (size[i] === undefined || size[i] === -1 ? d - b[i] : size[i]));
  x.shape.forEach((d, i) => {
    if (
      !Number.isInteger(b[i]) ||
      !Number.isInteger(s[i]) ||
      b[i] < 0 ||
      s[i] < 0 ||
      b[i] + s[i] > d
    ) {
      throw new ShapeError(
        `slice: begin ${formatShape(b)} with size ${formatShape(s)} does not fit in ${formatShape(x.shape)} (dim ${i})`,
      );
    }
  });
  if (s.every((d, i) => d === x.shape[i])) return x.alias(x.shape, 'slice');
  const paddings = x.shape.map((d, i) => [b[i], d - b[i] - s[i]] as [number, number]);
  return runKernel('Slice', [x], { begin: b, size: s }, (dy) => [padDims(dy, paddings, 0)]);
}

/** `length` elements of `dim` starting at `start`, like `torch.narrow`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim('narrow', dim, x.rank);
  const begin = x.shape.map((_, i) => (i === d ? start : 0));
  const size = x.shape.map((s, i) => (i === d ? length : s));
  return slice(x, begin, size);
}

/** Joins tensors along `dim` (all other dims equal), like `torch.cat`. */
export function concat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const first = tensors[0];
  const d = normalizeDim('concat', dim, first.rank);
  for (const [i, t] of tensors.entries()) {
    if (t.dtype !== first.dtype)
      throw new DTypeError(`concat: tensor ${i} is ${t.dtype} but tensor 0 is ${first.dtype}`);
    if (t.rank !== first.rank || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new ShapeError(
        `concat: tensor ${i} ${formatShape(t.shape)} does not match tensor 0 ${formatShape(first.shape)} outside dim ${d}`,
      );
    }
  }
  if (tensors.length === 1) return first.alias(first.shape, 'concat');
  return runKernel('Concat', tensors, { dim: d }, (dy) => {
    let offset = 0;
    return tensors.map((t) => {
      const g = narrow(dy, d, offset, t.shape[d]);
      offset += t.shape[d];
      return g;
    });
  });
}

/** PyTorch's name for `concat`. */
export const cat = concat;

/**
 * Splits along `dim` into chunks of `splitSizeOrSections` elements (the last may be smaller),
 * or into pieces of the listed sizes, like `torch.split`.
 */
export function split(
  x: Tensor,
  splitSizeOrSections: number | readonly number[],
  dim = 0,
): Tensor[] {
  const d = normalizeDim('split', dim, x.rank);
  const length = x.shape[d];
  let sizes: number[];
  if (typeof splitSizeOrSections === 'number') {
    if (!Number.isInteger(splitSizeOrSections) || splitSizeOrSections <= 0) {
      throw new ShapeError(
        `split: split size must be a positive integer, got ${splitSizeOrSections}`,
      );
    }
    sizes = [];
    for (let at = 0; at < length; at += splitSizeOrSections)
      sizes.push(Math.min(splitSizeOrSections, length - at));
  } else {
    sizes = [...splitSizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== length || sizes.some((s) => !Number.isInteger(s) || s < 0)) {
      throw new ShapeError(
        `split: sections ${formatShape(sizes)} must add up to dim ${d} of ${formatShape(x.shape)} (${length})`,
      );
    }
  }
  let offset = 0;
  return sizes.map((s) => {
    const piece = narrow(x, d, offset, s);
    offset += s;
    return piece;
  });
}

/**
 * Pads with `value`, like `torch.nn.functional.pad`: `pad` lists (before, after) pairs starting
 * from the LAST dim: `[left, right, top, bottom]` pads width then height.
 */
export function pad(x: Tensor, pad: readonly number[], value = 0): Tensor {
  if (
    pad.length % 2 !== 0 ||
    pad.length / 2 > x.rank ||
    pad.some((p) => !Number.isInteger(p) || p < 0)
  ) {
    throw new ShapeError(
      `pad: expects (before, after) pairs of non-negative integers for at most ${x.rank} dims, got ${formatShape(pad)}`,
    );
  }
  const paddings = x.shape.map(() => [0, 0] as [number, number]);
  for (let i = 0; i < pad.length / 2; i++) paddings[x.rank - 1 - i] = [pad[2 * i], pad[2 * i + 1]];
  return padDims(x, paddings, value);
}

function padDims(x: Tensor, paddings: [number, number][], value: number): Tensor {
  if (paddings.every(([a, b]) => a === 0 && b === 0)) return x.alias(x.shape, 'pad');
  return runKernel('Pad', [x], { paddings, value }, (dy) => [
    slice(
      dy,
      paddings.map(([before]) => before),
      x.shape,
    ),
  ]);
}

/**
 * Reverses the order of elements along `dims` (one dim or several; negative dims count from the
 * end), like `torch.flip` and `tf.reverse`. `flip(images, 3)` mirrors NCHW images left-right.
 * The gradient is the output gradient flipped back.
 */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const d = normalizeDims('flip', dims, x.rank);
  const moved = d.filter((k) => x.shape[k] > 1);
  if (moved.length === 0) return x.alias(x.shape, 'flip');
  return runKernel('Flip', [x], { dims: moved }, (dy) => [flip(dy, moved)]);
}
