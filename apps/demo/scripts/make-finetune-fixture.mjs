// Makes test/fixtures/mini-shapes-pretrained.safetensors, the pretrained checkpoint of the
// fine-tuning test: the mini AlexNet trained by `gpunet train` on 5 generated shapes (disk,
// square, horizontal bar, vertical bar, diagonal; 240 train and 60 val images each, 64 px,
// colours shuffled per image), 6 epochs, seed 0, on the wasm backend; validation top-1 67.0%
// when it was made. The test fine-tunes it on 3 other shapes (anti-diagonal, cross, ring).
// Regenerate (18 minutes on the shared 2-core machine; the wasm backend is deterministic for a
// given thread count):
//
//     pnpm --filter @gpunet/demo build && node apps/demo/scripts/make-finetune-fixture.mjs
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeShapesFolder } from './shapes-folder.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'gpunet-pretrain-'));
const data = join(scratch, 'shapes');
const classes = [0, 1, 2, 3, 4];
await writeShapesFolder(join(data, 'train'), { classes, perClass: 240, seed: 1 });
await writeShapesFolder(join(data, 'val'), { classes, perClass: 60, seed: 2 });
const out = join(scratch, 'run');
// Relative paths, run in the scratch folder: the weights' metadata records `--data` as given.
const args = ['train', '--model', 'mini', '--data', 'imagefolder:shapes', '--epochs', '6'];
const run = spawnSync(
  process.execPath,
  [join(here, '../bin/gpunet.mjs'), ...args, '--backend', 'wasm', '--workers', '1', '--out', 'run'],
  { stdio: 'inherit', cwd: scratch },
);
if (run.status !== 0) process.exit(run.status ?? 1);
const target = join(here, '../test/fixtures/mini-shapes-pretrained.safetensors');
copyFileSync(join(out, 'model.safetensors'), target);
rmSync(scratch, { recursive: true, force: true });
console.log(`wrote ${target}`);
