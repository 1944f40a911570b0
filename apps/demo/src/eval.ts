/** `gpunet eval`: top-1 (top-5), loss and per-class accuracy with 1 or the paper's 10 crops. */
import { type EvaluationResult, evaluate } from '@gpunet/alexnet';
import { DataLoader } from '@gpunet/data';
import { parseDataSpec, transformFor } from './data.js';
import { CliError } from './errors.js';
import { loadModel } from './model-file.js';
import type { Reporter } from './progress.js';

/** `--crops` of `gpunet eval`. */
export type CropsChoice = 'center' | 'ten' | 'both';

/** An evaluation for people and for `--json`: per-class lines carry the class names. */
function describeEvaluation(result: EvaluationResult, classes: readonly string[]) {
  return {
    ...result,
    perClass: result.perClass.map((c, i) => ({ class: classes[i] ?? `class ${i}`, ...c })),
  };
}

const percent = (v: number | null) => (v === null ? '-' : `${(100 * v).toFixed(2)}%`);

/**
 * `gpunet eval`: top-1 (and top-5, with more than 5 classes) over a dataset's validation split
 * (an image folder's `val/`, or its held-out tenth), with the centre crop, the paper's 10 crops
 * (section 4.1: corners and centre of the central square and their mirrors, softmax averaged),
 * or both; and per-class accuracy (a table for people, `perClass` in `--json`).
 */
export async function evalCommand(
  options: {
    weights?: string;
    data: string;
    batchSize: number;
    workers: number;
    model?: string;
    crops?: CropsChoice;
  },
  report: Reporter,
): Promise<{ center?: EvaluationResult; ten?: EvaluationResult }> {
  if (!options.weights) throw new CliError('eval: --weights <file> is required');
  const crops = options.crops ?? 'both';
  if (!['center', 'ten', 'both'].includes(crops))
    throw new CliError(`--crops '${crops}': expected center, ten or both`);
  const { model, config } = await loadModel(options.weights, {
    variant: options.model as 'paper' | 'torchvision' | 'mini' | undefined,
  });
  if (crops === 'ten' && !config.augment)
    throw new CliError(
      `--crops ten: ${options.weights} was trained without crops (digits are used whole); use --crops center`,
    );
  const source = parseDataSpec(options.data);
  if (source.classes.length !== config.model.numClasses) {
    throw new CliError(
      `eval: --data ${options.data} has ${source.classes.length} classes but the model has ${config.model.numClasses}`,
    );
  }
  const pre = {
    size: config.model.inputSize,
    mean: config.mean,
    std: config.std,
    augment: config.augment,
    resize: config.resize,
  };
  const run = async (mode: 'eval' | 'ten') => {
    const loader = new DataLoader(source.open('val', transformFor(source, pre, mode)), {
      batchSize: options.batchSize,
      numWorkers: options.workers,
    });
    try {
      return mode === 'eval'
        ? await evaluate(model, loader, { crops: 'center' })
        : await evaluate(model, loader, { crops: 'ten', cropSize: config.model.inputSize });
    } finally {
      await loader.close();
    }
  };
  const center = crops === 'ten' ? undefined : await run('eval');
  const ten = crops === 'center' || !config.augment ? undefined : await run('ten');
  const names = config.classes;
  report.json({
    event: 'eval',
    data: options.data,
    center: center ? describeEvaluation(center, names) : null,
    ten: ten ? describeEvaluation(ten, names) : null,
  });
  const count = (center ?? ten)?.count ?? 0;
  report.info(`${options.data} (${count} images, ${names.length} classes):`);
  const line = (label: string, r: EvaluationResult) =>
    report.info(
      `  ${label} top-1 ${percent(r.top1)}${r.top5 === null ? '' : `  top-5 ${percent(r.top5)}`}  loss ${r.loss.toFixed(4)}`,
    );
  if (center) line('1-crop: ', center);
  if (ten) line('10-crop:', ten);
  else if (crops !== 'center')
    report.info('  10-crop: not run (the model was trained without crops; digits are used whole)');
  // The per-class table of the last evaluation run (10-crop when it ran).
  const last = ten ?? center;
  if (last && names.length <= 100) {
    const width = Math.min(Math.max(...names.map((n) => n.length), 5), 40);
    const hasTop5 = last.top5 !== null;
    report.info(
      `  ${'class'.padEnd(width)}  images   top-1${hasTop5 ? '   top-5' : ''}  (${ten ? '10-crop' : '1-crop'})`,
    );
    last.perClass.forEach((c, i) => {
      const name = (names[i] ?? `class ${i}`).slice(0, width).padEnd(width);
      report.info(
        `  ${name}  ${String(c.count).padStart(6)}  ${percent(c.top1).padStart(7)}${hasTop5 ? ` ${percent(c.top5).padStart(7)}` : ''}`,
      );
    });
  }
  return { center, ten };
}
