/**
 * Kernels over tensors larger than one launch may index.
 *
 * The generated kernels compute flat indices in f32 on every mode but cpu, exact only below
 * `GpuBackend.indexLimit` elements (2^23). AlexNet meets larger tensors: fc6's weight (37.7M),
 * and at batch 128 conv1's input (19.8M) and output (37.2M). A kernel meeting one runs here as
 * several launches that each stay under the limit, by one of three plans:
 *
 * - **rows**: the op is independent along dim 0 (the batch of a convolution, pooling or LRN; the
 *   rows of an elementwise op). Each launch takes a block of rows of the inputs that have them
 *   and the whole of the others, and the outputs are laid end to end.
 * - **rows, reduced**: the op sums (or takes the max) over dim 0 (a filter gradient, a sum over
 *   the batch). Each block gives a partial result; the partials are combined.
 * - **matmul**: BatchMatMul splits whichever of M, N or K keeps every piece contiguous: a big
 *   output by its rows, a big `[N, K]` weight (fc6 forward) by N, a big `[K, N]` weight (fc6's
 *   input gradient) by K with partial sums.
 *
 * On the GL modes and webgpu such a tensor is stored as consecutive pieces (see
 * `GpuBackend.range` and `assemble`); on webasm it stays one host array, and its blocks are
 * zero-copy views. A case that no plan covers (a transpose that moves dim 0, a reduction along
 * dim 0 of ArgMax, a single row over the limit) fails on the GL modes and webgpu with an error
 * that says why; on webasm it runs as a cpu-mode kernel (exact, slower).
 */
import {
  BINARY_KERNELS,
  type BinaryKernelName,
  type KernelAttrs,
  type KernelName,
  outputShape,
  type Shape,
  sizeOf as size,
  type TensorInfo,
  UNARY_KERNELS,
} from '@gpunet/tensor';
import { type GpuBackend, MAX_KERNEL_INPUTS } from './backend.js';
import type { GpuKernel } from './internal/define.js';
import { rowsPerBlock } from './internal/pieces.js';

/** A large case that no plan covers; `reason` says why. */
class Unsplittable extends Error {}

/** What a plan works with. */
interface Job {
  kernel: GpuKernel;
  inputs: readonly TensorInfo[];
  // biome-ignore lint/suspicious/noExplicitAny: each rule reads its own kernel's attrs
  attrs: any;
  backend: GpuBackend;
  /** Runs another kernel of this backend (small operands: never split). */
  call: (name: KernelName, inputs: readonly TensorInfo[], attrs: object) => TensorInfo;
}

interface SplitRule {
  /** Runs the kernel as launches under the index limit; throws Unsplittable before launching. */
  split(job: Job): TensorInfo;
  /**
   * Whether a thread of the kernel would loop more than `LOOP_LIMIT` times (the kernels whose
   * loops grow with a size the user picks); `split` then also keeps every launch under it.
   */
  loopsPastLimit?(job: Pick<Job, 'inputs' | 'attrs' | 'backend'>): boolean;
}

/** The output shape of the job's kernel (declared once, in @gpunet/tensor's registry). */
const outShapeOf = (job: Pick<Job, 'kernel' | 'inputs' | 'attrs'>): Shape =>
  outputShape(
    job.kernel.kernelName,
    job.inputs.map((t) => t.shape),
    job.attrs,
  );

/**
 * Runs `job.kernel` on `rows`-row blocks along dim 0 of the inputs listed in `rowInputs` (the
 * other inputs are passed whole) and lays the outputs end to end as `outShape`. `attrsFor`
 * gives the kernel's attrs for a block of `rows` rows. With `reduce`, the blocks' outputs are
 * instead combined elementwise by that binary kernel into one output of `outShape`. A block
 * holds at most `maxRows` rows (the loop limit's plans).
 */
function byRows(
  job: Job,
  rowInputs: readonly number[],
  rowCount: number,
  outShape: Shape,
  attrsFor: (rows: number) => object = () => job.attrs,
  reduce?: BinaryKernelName,
  firstRow = 0,
  maxRows = Number.POSITIVE_INFINITY,
): TensorInfo {
  const { backend, inputs } = job;
  const limit = backend.indexLimit;
  const rowLength = (t: TensorInfo) => size(t.shape.slice(1));
  inputs.forEach((t, k) => {
    if (rowInputs.includes(k)) {
      if (t.shape[0] < firstRow + rowCount)
        throw new Unsplittable(`input ${k} has ${t.shape[0]} rows along dim 0, not ${rowCount}`);
    } else if (backend.lengthOf(t.dataId) > limit) {
      throw new Unsplittable(`input ${k} (${size(t.shape)} elements) cannot be split along dim 0`);
    }
  });
  const outRow = reduce ? 0 : size(outShape) / rowCount;
  const widest = Math.max(outRow, ...rowInputs.map((k) => rowLength(inputs[k])));
  if (widest > limit) {
    throw new Unsplittable(`one row along dim 0 holds ${widest} elements, over the limit itself`);
  }
  const step = Math.max(1, Math.min(maxRows, rowsPerBlock(limit, widest)));
  const outs: TensorInfo[] = [];
  for (let first = 0; first < rowCount; first += step) {
    const rows = Math.min(step, rowCount - first);
    const views: TensorInfo[] = [];
    const block = inputs.map((t, k) => {
      if (!rowInputs.includes(k)) return t;
      const length = rowLength(t);
      const start = (firstRow + first) * length;
      const view = backend.range(t, start, rows * length, [rows, ...t.shape.slice(1)]);
      views.push(view);
      return view;
    });
    const out = job.kernel.kernelFunc({ inputs: block, attrs: attrsFor(rows) as never, backend });
    for (const view of views) backend.disposeData(view.dataId);
    if (reduce && outs.length === 1) {
      const sum = job.call(reduce, [outs[0], out], {});
      backend.disposeData(outs[0].dataId);
      backend.disposeData(out.dataId);
      outs[0] = sum;
    } else outs.push(out);
  }
  return reduce ? { ...outs[0], shape: outShape } : backend.assemble(outs, outShape);
}

/** An op whose output element i depends on element i of every input: blocks of the flat data. */
function byElements(job: Job, outShape: Shape): TensorInfo {
  const n = size(outShape);
  const flat = { ...job, inputs: job.inputs.map((t) => ({ ...t, shape: [n] })) };
  const out = byRows(
    flat,
    job.inputs.map((_, k) => k),
    n,
    [n],
  );
  return { ...out, shape: outShape };
}

/** Rows along dim 0 of the output, splitting the inputs that have the output's rows. */
function byOutputRows(job: Job, outShape: Shape, attrsFor?: (rows: number) => object) {
  if (outShape.length === 0 || outShape[0] < 2)
    throw new Unsplittable(`the output ${JSON.stringify(outShape)} has no dim 0 to split`);
  const rowInputs = job.inputs
    .map((t, k) => (t.shape.length === outShape.length && t.shape[0] === outShape[0] ? k : -1))
    .filter((k) => k >= 0);
  return byRows(job, rowInputs, outShape[0], outShape, attrsFor);
}

const sameShapes = (shapes: readonly Shape[]) =>
  shapes.every((s) => s.length === shapes[0].length && s.every((d, k) => d === shapes[0][k]));

/**
 * Concat of small tensors along `dim`, in groups of at most MAX_KERNEL_INPUTS. With
 * `ownsParts` the parts are temporaries and are disposed once used.
 */
function concat(job: Job, parts: readonly TensorInfo[], dim: number, ownsParts = true): TensorInfo {
  let level = parts;
  let isOwned = ownsParts;
  while (level.length > 1) {
    const next: TensorInfo[] = [];
    for (let k = 0; k < level.length; k += MAX_KERNEL_INPUTS) {
      const group = level.slice(k, k + MAX_KERNEL_INPUTS);
      if (group.length === 1 && isOwned) next.push(group[0]);
      else {
        next.push(job.call('Concat', group, { dim }));
        if (isOwned) for (const t of group) job.backend.disposeData(t.dataId);
      }
    }
    level = next;
    isOwned = true;
  }
  return level[0];
}

/** A kernel that runs on blocks of the batch: `rowInputs` are split, `attrs.batch` follows. */
function batchRule(rowInputs: number[]): SplitRule {
  return {
    split: (job) =>
      byRows(job, rowInputs, job.attrs.batch, outShapeOf(job), (rows) => ({
        ...job.attrs,
        batch: rows,
      })),
  };
}

/**
 * The longest K a matmul thread sums in one launch: its loop runs K / 4 passes (four products
 * each; the blocked kernels too), plus one.
 */
const matmulKLimit = (backend: GpuBackend) => 4 * (backend.loopLimit - 1);

/** BatchMatMul: see the file comment. */
function splitMatmul(job: Job): TensorInfo {
  const { backend, inputs, attrs } = job;
  const [a, b] = inputs;
  const { transposeA, transposeB } = attrs as KernelAttrs['BatchMatMul'];
  const limit = backend.indexLimit;
  const outShape = outShapeOf(job);
  const k = transposeA ? a.shape[1] : a.shape[2];
  const isLongK = k > matmulKLimit(backend);
  if (a.shape[0] > 1) {
    if (!isLongK) return byRows(job, [0, 1], a.shape[0], outShape);
    // One matrix at a time, each summed over blocks of K below.
    const one: Job = {
      ...job,
      kernel: {
        kernelName: 'BatchMatMul',
        kernelFunc: ({ inputs }) => splitMatmul({ ...job, inputs }),
      },
    };
    return byRows(one, [0, 1], a.shape[0], outShape, undefined, undefined, 0, 1);
  }
  const [, m, n] = outShape;
  const isBig = (t: TensorInfo) => backend.lengthOf(t.dataId) > limit;
  const rowsOf = (t: TensorInfo, first: number, rows: number) => {
    const length = t.shape[2];
    return backend.range(t, first * length, rows * length, [1, rows, length]);
  };
  const columnsOf = (t: TensorInfo, first: number, columns: number) =>
    job.call('Slice', [t], { begin: [0, 0, first], size: [1, t.shape[1], columns] });
  const free = (...ts: TensorInfo[]) => {
    for (const t of ts) backend.disposeData(t.dataId);
  };
  /** Calls `each` on blocks of at most `limit / width` (and `most`) of `count` rows. */
  const walk = (
    count: number,
    width: number,
    each: (first: number, rows: number) => void,
    most = count,
  ) => {
    const step = Math.max(1, Math.min(most, rowsPerBlock(limit, width)));
    for (let first = 0; first < count; first += step) each(first, Math.min(step, count - first));
  };
  /** op(x) op(y) summed over blocks of K of at most `most` (one launch when K fits). */
  const overK = (x: TensorInfo, y: TensorInfo, most: number): TensorInfo => {
    const xRows = transposeA ? x.shape[2] : x.shape[1];
    const yColumns = transposeB ? y.shape[1] : y.shape[2];
    if (k <= most && !isBig(x) && !isBig(y))
      return job.kernel.kernelFunc({ inputs: [x, y], attrs, backend });
    let sum: TensorInfo | null = null;
    walk(
      k,
      Math.max(transposeA ? xRows : 0, transposeB ? 0 : yColumns),
      (first, rows) => {
        const xPart = transposeA ? rowsOf(x, first, rows) : columnsOf(x, first, rows);
        const yPart = transposeB ? columnsOf(y, first, rows) : rowsOf(y, first, rows);
        const product = job.kernel.kernelFunc({ inputs: [xPart, yPart], attrs, backend });
        free(xPart, yPart);
        if (sum === null) sum = product;
        else {
          const next = job.call('Add', [sum, product], {});
          free(sum, product);
          sum = next;
        }
      },
      most,
    );
    return sum as unknown as TensorInfo;
  };
  const kMost = isLongK ? matmulKLimit(backend) : k;
  const matmul = (x: TensorInfo, y: TensorInfo) => overK(x, y, kMost);
  const widest = Math.max(k, m, n);
  if (widest > limit)
    throw new Unsplittable(`a matrix row of ${widest} elements is over the limit`);

  if (m * n > limit || (isBig(a) && !transposeA)) {
    // By rows of the output: op(A)'s rows are A's rows, or A's columns when transposed.
    if (isBig(b) || (isBig(a) && transposeA))
      throw new Unsplittable('both the output and an operand are over the limit');
    const outs: TensorInfo[] = [];
    walk(m, Math.max(n, transposeA ? 0 : k), (first, rows) => {
      const part = transposeA ? columnsOf(a, first, rows) : rowsOf(a, first, rows);
      outs.push(matmul(part, b));
      free(part);
    });
    return backend.assemble(outs, outShape);
  }
  if (isBig(b) && transposeB) {
    if (isBig(a)) throw new Unsplittable('both operands are over the limit');
    // B is [N, K] (a linear layer's weight): its rows are the output's columns.
    const outs: TensorInfo[] = [];
    walk(n, k, (first, rows) => {
      const part = rowsOf(b, first, rows);
      outs.push(matmul(a, part));
      free(part);
    });
    return { ...concat(job, outs, 2), shape: outShape };
  }
  // The remaining big operand (or a long K) is split along K, its rows; the products are summed.
  return overK(a, b, kMost);
}

const RULES: Partial<Record<KernelName, SplitRule>> = {};

for (const name of [...UNARY_KERNELS, 'Cast', 'ReluGrad'] as const) {
  RULES[name] = { split: (job) => byElements(job, outShapeOf(job)) };
}
for (const name of BINARY_KERNELS) {
  RULES[name] = {
    split: (job) => {
      const [a, b] = job.inputs;
      const shape = outShapeOf(job);
      return sameShapes([a.shape, b.shape]) ? byElements(job, shape) : byOutputRows(job, shape);
    },
  };
}
for (const [name, combine] of [
  ['Sum', 'Add'],
  ['Max', 'Maximum'],
  ['Min', 'Minimum'],
] as const) {
  RULES[name] = {
    split: (job) => {
      const reduce = job.attrs.dims.includes(0) ? combine : undefined;
      return byRows(job, [0], job.inputs[0].shape[0], outShapeOf(job), undefined, reduce);
    },
  };
}
RULES.ArgMax = {
  split: (job) => {
    if (job.attrs.dim === 0) throw new Unsplittable('ArgMax along dim 0 reads every row');
    return byRows(job, [0], job.inputs[0].shape[0], outShapeOf(job));
  },
};
RULES.OneHot = { split: (job) => byRows(job, [0], job.inputs[0].shape[0], outShapeOf(job)) };
RULES.Transpose = {
  split: (job) => {
    const { perm } = job.attrs as KernelAttrs['Transpose'];
    if (perm[0] !== 0) throw new Unsplittable('a transpose that moves dim 0');
    return byOutputRows(job, outShapeOf(job));
  },
};
RULES.Slice = {
  split: (job) => {
    // Output row r is input row begin[0] + r: blocks of those rows, sliced along the rest.
    const { begin, size: sliceSize } = job.attrs as KernelAttrs['Slice'];
    const attrsFor = (rows: number) => ({
      begin: [0, ...begin.slice(1)],
      size: [rows, ...sliceSize.slice(1)],
    });
    return byRows(job, [0], sliceSize[0], sliceSize, attrsFor, undefined, begin[0]);
  },
};
RULES.Concat = {
  split: (job) => {
    const { backend, inputs } = job;
    const shape = outShapeOf(job);
    if (job.attrs.dim !== 0) return byOutputRows(job, shape);
    // Along dim 0 every input is one contiguous block of the output.
    const parts: TensorInfo[] = [];
    for (const t of inputs) {
      const n = size(t.shape);
      for (let first = 0; first < n; first += backend.indexLimit) {
        const length = Math.min(backend.indexLimit, n - first);
        parts.push(backend.range(t, first, length, [length]));
      }
    }
    return backend.assemble(parts, shape);
  },
};
RULES.Pad = {
  split: (job) => {
    // Blocks of output rows; each pads the input rows it holds (maybe none) along dim 0 too.
    const { backend, inputs } = job;
    const [x] = inputs;
    const { paddings, value } = job.attrs as KernelAttrs['Pad'];
    const outShape = outShapeOf(job);
    const [before, after] = paddings[0];
    const n = x.shape[0];
    const rest = x.shape.slice(1);
    const widest = Math.max(size(rest), size(outShape.slice(1)));
    if (widest > backend.indexLimit)
      throw new Unsplittable(`one row along dim 0 holds ${widest} elements, over the limit itself`);
    const step = Math.max(1, Math.floor(backend.indexLimit / widest));
    const outs: TensorInfo[] = [];
    for (let first = 0; first < before + n + after; first += step) {
      const rows = Math.min(step, before + n + after - first);
      const lo = Math.max(first - before, 0);
      const hi = Math.min(first + rows - before, n);
      const held = Math.max(hi - lo, 0);
      const block =
        held > 0
          ? backend.range(x, lo * size(rest), held * size(rest), [held, ...rest])
          : {
              dataId: backend.write(new Float32Array(0), [0, ...rest], x.dtype),
              shape: [0, ...rest],
              dtype: x.dtype,
            };
      const top = held > 0 ? lo + before - first : rows;
      const attrs = { paddings: [[top, rows - top - held], ...paddings.slice(1)], value };
      outs.push(job.kernel.kernelFunc({ inputs: [block], attrs: attrs as never, backend }));
      backend.disposeData(block.dataId);
    }
    return backend.assemble(outs, outShape);
  },
};
RULES.Flip = {
  split: (job) => {
    // Rows keep their place unless dim 0 is flipped: blocks of rows, each flipped in place.
    if ((job.attrs as KernelAttrs['Flip']).dims.includes(0))
      throw new Unsplittable('a flip of dim 0');
    return byOutputRows(job, outShapeOf(job));
  },
};
RULES.BroadcastTo = {
  split: (job) => {
    const shape = outShapeOf(job);
    return byOutputRows(job, shape, (rows) => ({ shape: [rows, ...shape.slice(1)] }));
  },
};
RULES.BatchMatMul = {
  split: splitMatmul,
  loopsPastLimit: ({ inputs: [a], attrs, backend }) =>
    (attrs.transposeA ? a.shape[1] : a.shape[2]) > matmulKLimit(backend),
};
RULES.Conv2d = batchRule([0]);
RULES.FusedConv2d = batchRule([0]);
RULES.Conv2dBackpropInput = batchRule([0]);
/**
 * The loop iterations of a filter gradient's thread per image, at most: every path (flat,
 * blocked, packed) loops over the output rows and, in each, over the output columns at least
 * four at a time, plus the loops' exits.
 */
const filterGradientLoopsPerImage = (a: KernelAttrs['Conv2dBackpropFilter']) =>
  a.outHeight * (Math.ceil(a.outWidth / 4) + 2) + 4;

RULES.Conv2dBackpropFilter = {
  split: (job) =>
    byRows(
      job,
      [0, 1],
      job.attrs.batch,
      outShapeOf(job),
      (rows) => ({ ...job.attrs, batch: rows }),
      'Add',
      0,
      Math.floor((job.backend.loopLimit - 1) / filterGradientLoopsPerImage(job.attrs)),
    ),
  loopsPastLimit: ({ attrs, backend }) =>
    attrs.batch * filterGradientLoopsPerImage(attrs) + 1 > backend.loopLimit,
};
RULES.MaxPool2d = batchRule([0]);
RULES.AvgPool2d = batchRule([0]);
RULES.AdaptiveAvgPool2d = batchRule([0]);
RULES.MaxPool2dGrad = batchRule([0, 1]);
RULES.AvgPool2dGrad = batchRule([0]);
RULES.AdaptiveAvgPool2dGrad = batchRule([0]);
for (const name of ['LRN', 'LRNGrad'] as const) {
  RULES[name] = {
    split: (job) =>
      byRows(job, name === 'LRN' ? [0] : [0, 1], job.inputs[0].shape[0], job.inputs[0].shape),
  };
}

/**
 * Runs `kernel` on `backend`: directly when every tensor is within the index limit, else split
 * into launches under it by its rule. `call` runs other kernels of the backend (used by the
 * plans). (The engine's `runKernel` dispatches an op to a backend; this runs one on it.)
 */
export function runWithinIndexLimit(
  kernel: GpuKernel,
  inputs: readonly TensorInfo[],
  attrs: object,
  backend: GpuBackend,
  call: Job['call'],
): TensorInfo {
  const rule = RULES[kernel.kernelName];
  if (kernel.kernelName === 'Concat' && inputs.length > MAX_KERNEL_INPUTS) {
    // More inputs than a kernel may read: concatenate in groups.
    const job = { kernel, inputs, attrs, backend, call };
    return concat(job, inputs, (attrs as KernelAttrs['Concat']).dim, false);
  }
  if (backend.splitsLargeTensors && rule) {
    const limit = backend.indexLimit;
    const largest = Math.max(
      size(outShapeOf({ kernel, inputs, attrs })),
      ...inputs.map((t) => backend.lengthOf(t.dataId)),
    );
    const loopsPastLimit = rule.loopsPastLimit?.({ inputs, attrs, backend }) ?? false;
    if (largest > limit || loopsPastLimit) {
      try {
        const out = rule.split({ kernel, inputs, attrs, backend, call });
        backend.stats.splits++;
        return out;
      } catch (error) {
        if (!(error instanceof Unsplittable)) throw error;
        if (!backend.holdsHostArrays) {
          const why =
            largest > limit
              ? `meets a tensor of ${largest} elements, over the ${limit}-element limit of exact f32 index ` +
                'arithmetic on the GL modes and webgpu'
              : `would loop more than the ${backend.loopLimit} iterations a GL driver runs per thread`;
          throw new Error(
            `@gpunet/kernels (${backend.name}): ${kernel.kernelName} ${why}, and cannot be split: ${error.message}`,
          );
        }
        // webasm: run() falls back to a cpu-mode kernel, exact on any size.
      }
    }
  }
  return kernel.kernelFunc({ inputs, attrs: attrs as never, backend });
}
