/**
 * The `gpunet` command line: `demo`, `train`, `eval`, `predict`, `summary`, `visualize`,
 * `bench`, `export`. Every command takes `--json` (JSON lines on stdout, nothing else) and exits non-zero
 * with a one-line error on bad input.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BACKEND_NAMES, selectBackend } from './backend.js';
import {
  benchCommand,
  demoCommand,
  predictCommand,
  summaryCommand,
  visualizeCommand,
} from './commands.js';
import { CliError, describeError } from './errors.js';
import { evalCommand } from './eval.js';
import { EXPORT_FORMATS, exportCommand } from './export.js';
import { createReporter, type Reporter } from './progress.js';
import { checkTrainOptions, runTraining } from './train.js';

const int = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};
const num = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
  return n;
};

const backendOption = () =>
  new Option('--backend <name>', 'where the tensors compute; auto picks a real GPU, else wasm')
    .choices(BACKEND_NAMES)
    .default('auto');
const jsonOption = () => new Option('--json', 'JSON lines on stdout, nothing else');
const verboseOption = () => new Option('--verbose', 'say why each better backend was passed over');
const VARIANTS = ['paper', 'torchvision', 'mini'];
/** `--model`: which AlexNet to build (with a default), or which one a `.pth` holds (without). */
const modelOption = (fallback?: string) =>
  fallback
    ? new Option('--model <variant>', 'which AlexNet').choices(VARIANTS).default(fallback)
    : new Option('--model <variant>', 'the model a .pth holds').choices(VARIANTS);
const weightsOption = () =>
  new Option(
    '--weights <file>',
    'model.safetensors from gpunet train, a PyTorch .pth, or an .onnx',
  );
const dataOption = () =>
  new Option(
    '--data <spec>',
    'synthetic[:train=<n>,val=<n>,classes=<n>,size=<n>] | idx:<dir> | cifar10:<dir> | imagefolder:<dir>',
  ).default('synthetic');
const workersOption = () =>
  new Option('--workers <n>', 'data loader worker threads').argParser(int('--workers')).default(0);

/**
 * Adds `--backend` and `--json` to a command and runs `body` with a reporter once the backend is
 * selected (and, first, `check` on the raw options, so bad flags fail before any slow start).
 */
function withRuntime<O extends { backend: string; json?: boolean; verbose?: boolean }>(
  command: Command,
  body: (options: O, report: Reporter, args: string[]) => Promise<void>,
  check?: (options: O) => void,
): Command {
  return command
    .addOption(backendOption())
    .addOption(jsonOption())
    .addOption(verboseOption())
    .action(async (...received: unknown[]) => {
      // commander passes the arguments, then the options, then the command.
      const options = received.at(-2) as O;
      const args = received.slice(0, -2).flat() as string[];
      const report = createReporter(Boolean(options.json));
      check?.(options);
      options.backend = await withBackend(options.backend, report, Boolean(options.verbose));
      await body(options, report, args);
    });
}

/**
 * Selects the backend and says so in one line; with `verbose`, one more line per passed-over
 * mode with the first clause of its reason (--json carries the whole reason and remedy).
 */
async function withBackend(name: string, report: Reporter, verbose: boolean): Promise<string> {
  const choice = await selectBackend(name);
  const modes = choice.passedOver.map((line) => line.split(':')[0]);
  report.info(
    `backend: ${choice.description}${
      modes.length > 0 && !verbose ? ` (passed over ${modes.join(', ')}; --verbose says why)` : ''
    }`,
  );
  if (verbose) {
    for (const line of choice.passedOver) report.info(`  passed over ${line.split(/; | \(/)[0]}`);
  }
  report.json({
    event: 'backend',
    backend: choice.name,
    description: choice.description,
    passedOver: choice.passedOver,
  });
  return choice.name;
}

/** Builds the program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command('gpunet')
    .description(
      'AlexNet (Krizhevsky et al. 2012) in JavaScript: train, evaluate, predict and look inside',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  withRuntime(
    program
      .command('demo')
      .description(
        'train the mini AlexNet on a generated dataset, with curves, conv1 filters and predictions (a few minutes on 2 cores)',
      )
      .option('--out <dir>', 'where the checkpoint and pictures go', 'gpunet-out')
      .option('--epochs <n>', 'epochs', int('--epochs'), 10)
      .addOption(workersOption())
      .option('--seed <n>', 'seed of the init, dropout and shuffling', int('--seed'), 0),
    (o, report) => demoCommand(o as never, report),
  );

  withRuntime(
    program
      .command('train')
      .description(
        'train AlexNet with the paper recipe (SGD momentum 0.9, weight decay 5e-4, lr / 10 on plateau)',
      )
      .addOption(modelOption('mini'))
      .addOption(dataOption())
      .option('--epochs <n>', 'epochs in all (counting resumed ones)', int('--epochs'), 10)
      .option('--batch-size <n>', 'images per step', int('--batch-size'), 32)
      .option('--lr <x>', 'initial learning rate', num('--lr'), 0.01)
      .addOption(workersOption())
      .option('--seed <n>', 'seed of the init, dropout and shuffling', int('--seed'), 0)
      .option('--out <dir>', 'where checkpoints, weights and pictures go', 'gpunet-out')
      .option('--resume <checkpoint>', 'continue a run from its checkpoint.safetensors')
      .addOption(
        new Option(
          '--weights <file>',
          'start from pretrained weights (.pth, .safetensors): fine-tuning; a head with another class count is re-initialized',
        ),
      )
      .option(
        '--freeze <module>',
        'do not train this module (features, classifier.1, ...); repeatable',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      )
      .option(
        '--skip-bad-images',
        'leave undecodable images of an image folder out (listed in run.json) instead of stopping',
      ),
    async (o, report) => {
      const result = await runTraining(o as never, report);
      if (result.interrupted) process.exitCode = 130;
      else
        report.info(
          `wrote ${result.files.checkpoint}, ${result.files.model}, ${result.files.curves}, ${result.files.filters}`,
        );
    },
    (o) => checkTrainOptions(o as never),
  );

  withRuntime(
    program
      .command('eval')
      .description(
        "top-1 (top-5 with more than 5 classes) and per-class accuracy with the centre crop and the paper's 10 crops, on a dataset's validation split",
      )
      .addOption(weightsOption())
      .addOption(modelOption())
      .addOption(dataOption())
      .option('--batch-size <n>', 'images per batch', int('--batch-size'), 64)
      .addOption(workersOption())
      .addOption(
        new Option(
          '--crops <which>',
          "center: one centre crop; ten: the paper's 10 crops (corners, centre, mirrored), softmax averaged; both",
        )
          .choices(['center', 'ten', 'both'])
          .default('both'),
      ),
    async (o, report) => {
      await evalCommand(o as never, report);
    },
  );

  withRuntime(
    program
      .command('predict')
      .description('the most probable classes of images')
      .argument('<images...>', 'image files (JPEG, PNG, WebP, ...)')
      .addOption(weightsOption())
      .addOption(modelOption())
      .option('--top-k <n>', 'classes per image', int('--top-k'), 5),
    (o, report, images) => predictCommand(images, o as never, report),
  );

  program
    .command('summary')
    .description('the layer table: output shapes and parameter counts')
    .addOption(modelOption('paper'))
    .option('--num-classes <n>', 'classes (fc8 outputs)', int('--num-classes'))
    .option('--input-size <n>', 'input side in pixels', int('--input-size'))
    .option('--in-channels <n>', 'input channels', int('--in-channels'))
    .addOption(weightsOption())
    .addOption(jsonOption())
    .addOption(verboseOption())
    .action((o) => summaryCommand(o, createReporter(Boolean(o.json))));

  withRuntime(
    program
      .command('visualize')
      .description('conv1 filters, and the conv1/conv2 feature maps of an image, as PNG files')
      .addOption(weightsOption())
      .addOption(modelOption())
      .option('--image <file>', 'an image whose feature maps to draw')
      .option('--out <dir>', 'where the PNG files go', 'gpunet-out'),
    async (o, report) => {
      await visualizeCommand(o as never, report);
    },
  );

  withRuntime(
    program
      .command('bench')
      .description(
        'images per second: inference at batch 1 and 16, a training step at batch 16, and with --data the loader',
      )
      .addOption(modelOption('paper'))
      .option('--seconds <s>', 'time per measurement', num('--seconds'), 3)
      .option(
        '--data <spec>',
        "imagefolder:<dir>: also the data loader's images per second through the training pipeline",
      )
      .addOption(workersOption()),
    async (o, report) => {
      await benchCommand(o as never, report);
    },
  );

  withRuntime(
    program
      .command('export')
      .description('write a model as ONNX, a PyTorch .pth or .safetensors')
      .addOption(weightsOption())
      .addOption(new Option('--format <format>', 'default: from --out').choices(EXPORT_FORMATS))
      .option('--out <file>', 'the file to write (written whole or not at all)')
      .addOption(modelOption())
      .option('--num-classes <n>', 'classes of a .pth (default: its fc8)', int('--num-classes')),
    async (o, report) => {
      await exportCommand(o as never, report);
    },
  );

  return program;
}

/** Runs the CLI on `argv`; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version print themselves and exit 0; usage errors were printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    process.stderr.write(`gpunet: ${describeError(error)}\n`);
    if (error instanceof CliError)
      for (const line of error.details) process.stderr.write(`  ${line}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
