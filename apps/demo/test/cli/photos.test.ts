import { existsSync, mkdtempSync } from 'node:fs';
import { copyFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
// The same real-format folder @gpunet/data's decoding tests check file by file.
import { writePhotoFolder } from '../../../../packages/data/src/internal/fixtures.js';
import { runCli } from './run-cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'gpunet-photos-'));
const root = join(scratch, 'photos');
let bad: string[] = [];

beforeAll(async () => {
  ({ bad } = await writePhotoFolder(root));
  // More good images, so that the held-out tenth is not empty.
  for (let i = 0; i < 6; i++) {
    await copyFile(join(root, 'a', 'baseline.jpg'), join(root, 'a', `copy${i}.jpg`));
    await copyFile(join(root, 'b', 'alpha.png'), join(root, 'b', `copy${i}.png`));
  }
});

describe('gpunet train on a folder of real-format photos', () => {
  it('stops before training and lists every undecodable file with its reason, and how to skip them', async () => {
    const out = join(scratch, 'stopped');
    const run = await runCli([
      'train',
      '--data',
      `imagefolder:${root}`,
      '--epochs',
      '1',
      '--out',
      out,
    ]);
    expect(run.code).toBe(2);
    // stderr also has the plain progress line of the check and libjpeg's own warnings.
    const lines = run.stderr
      .split('\n')
      .slice(run.stderr.split('\n').findIndex((l) => l.startsWith('gpunet:')));
    expect(lines[0]).toBe(
      `gpunet: --data imagefolder:${root}: 2 of 22 images cannot be decoded (listed below); nothing was trained. Fix or remove them, or pass --skip-bad-images to leave them out`,
    );
    expect(lines[1]).toMatch(
      new RegExp(`^  ${bad[0]}: cannot decode image \\(\\d+ bytes\\): .*unsupported image format`),
    );
    expect(lines[2]).toMatch(
      // libvips's detail after 'corrupt header:' is per thread and sometimes lost under load.
      new RegExp(
        `^  ${bad[1]}: cannot decode image \\(\\d+ bytes\\): .*(corrupt header|premature end of JPEG)`,
      ),
    );
    expect(run.stdout).not.toContain('epoch 1');
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
  }, 120_000);

  it('--skip-bad-images leaves them out, counts them in the progress output and lists them in run.json', async () => {
    const out = join(scratch, 'skipped');
    const args = ['train', '--data', `imagefolder:${root}`, '--epochs', '1', '--skip-bad-images'];
    const run = await runCli([...args, '--workers', '1', '--json', '--out', out]);
    expect(run.code).toBe(0);
    const images = run.lines.find((l) => l.event === 'images') as {
      checked: number;
      bad: { file: string }[];
    };
    expect(images.checked).toBe(22);
    expect(images.bad.map((b) => b.file)).toEqual(bad);
    expect(run.lines.find((l) => l.event === 'epoch')).toMatchObject({ skippedImages: 2 });
    const saved = JSON.parse(await readFile(join(out, 'run.json'), 'utf8'));
    expect(saved.skippedImages.map((b: { file: string }) => b.file)).toEqual(bad);
    expect(saved.skippedImages[1].reason).toMatch(/corrupt header|premature end of JPEG/);
    const text = await runCli([...args, '--out', join(scratch, 'text')]);
    expect(text.stdout).toContain(
      `checked 22 images: left out 2 that cannot be decoded (--skip-bad-images; listed in ${join(scratch, 'text', 'run.json')})`,
    );
    expect(text.stdout).toMatch(/epoch 1: .*, 2 bad images left out\n/);
  }, 180_000);
});
