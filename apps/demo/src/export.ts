/**
 * `gpunet export`: a model's weights in another format. `--weights` is anything the CLI reads
 * (`model.safetensors` from `gpunet train`, a PyTorch `.pth`, an `.onnx`); the variant, widths and
 * class count come from the file's metadata or its tensors' shapes (`--model` and
 * `--num-classes` override them for `.pth` files).
 */
import { exportAlexNetOnnx } from '@gpunet/alexnet';
import { writePth, writeSafetensors } from '@gpunet/layers';
import { writeFileAtomic } from './draw.js';
import { CliError } from './errors.js';
import { loadModel, METADATA_KEY } from './model-file.js';
import type { Reporter } from './progress.js';

/** The formats `gpunet export` writes, by file extension. */
export const EXPORT_FORMATS = ['onnx', 'pth', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Options of `exportCommand` (the flags). */
export interface ExportOptions {
  weights?: string;
  format?: string;
  out?: string;
  model?: string;
  numClasses?: number;
}

/** Checks the flags before anything is read: a missing or inconsistent flag exits 2. */
export function checkExportOptions(options: ExportOptions): {
  weights: string;
  format: ExportFormat;
  out: string;
} {
  if (!options.weights) throw new CliError('export: --weights <file> is required');
  if (!options.out) throw new CliError('export: --out <file> is required');
  const extension = /\.([a-z]+)$/.exec(options.out)?.[1];
  const format = options.format ?? extension;
  if (!EXPORT_FORMATS.includes(format as ExportFormat)) {
    throw new CliError(
      `export: --format must be onnx, pth or safetensors (or --out must end in one), got '${format ?? options.out}'`,
    );
  }
  if (options.format && extension && extension !== options.format) {
    throw new CliError(
      `export: --out ${options.out} ends in .${extension} but --format is ${options.format}`,
    );
  }
  return { weights: options.weights, format: format as ExportFormat, out: options.out };
}

/**
 * Reads `--weights` into an AlexNet and writes it to `--out` as ONNX (opset 13, with the CLI's
 * config in the metadata, so `predict` reads it back with its class names), a PyTorch `.pth`
 * (state dict only; `torch.load(path, weights_only=True)` and `load_state_dict` read it) or
 * `.safetensors` (with the config). The file is written to `<out>.tmp` and renamed, so a failure
 * leaves nothing behind.
 */
export async function exportCommand(options: ExportOptions, report: Reporter): Promise<string> {
  const { weights, format, out } = checkExportOptions(options);
  const { model, config } = await loadModel(weights, {
    variant: options.model as 'paper' | 'torchvision' | 'mini' | undefined,
    ...(options.numClasses ? { numClasses: options.numClasses } : {}),
  });
  try {
    const bytes =
      format === 'onnx'
        ? await exportAlexNetOnnx(model, { metadata: { [METADATA_KEY]: JSON.stringify(config) } })
        : format === 'pth'
          ? await writePth(model.stateDict())
          : await writeSafetensors(model.stateDict(), { [METADATA_KEY]: JSON.stringify(config) });
    await writeFileAtomic(out, bytes);
    const o = model.options;
    const params = model.parameters().reduce((n, p) => n + p.size, 0);
    report.json({
      event: 'export',
      out,
      format,
      variant: o.variant,
      numClasses: o.numClasses,
      inputSize: o.inputSize,
      parameters: params,
      bytes: bytes.byteLength,
    });
    report.info(
      `wrote ${out}: ${format}, ${o.variant} AlexNet, ${o.numClasses} classes, ${o.inChannels}x${o.inputSize}x${o.inputSize} input, ${params.toLocaleString('en-US')} parameters, ${(bytes.byteLength / 1e6).toFixed(1)} MB`,
    );
    return out;
  } finally {
    for (const p of model.parameters()) p.dispose();
  }
}
