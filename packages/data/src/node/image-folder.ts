import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  checkIndex,
  getTransformed,
  type ImageDataset,
  type RawSample,
  type Sample,
  type SampleContext,
} from '../dataset.js';
import { DataError } from '../errors.js';
import type { Transform } from '../transform.js';
import { decodeImage } from './decode.js';

/** `ImageFolder` options. */
export interface ImageFolderOptions {
  /** Applied to each decoded HWC uint8 RGB image. */
  transform?: Transform;
  /** File extensions to include, lower case with the dot (default JPEG and PNG). */
  extensions?: string[];
  /** Allow a class folder with no images instead of throwing (torchvision `allow_empty`). */
  allowEmpty?: boolean;
  /** Image paths to leave out (e.g. the undecodable ones a first pass found), as listed in `samples`. */
  exclude?: Iterable<string>;
}

/** JPEG and PNG, the formats every platform decodes. */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png'];

// Hidden files and folders (`.DS_Store`, macOS's `._photo.jpg`, `.ipynb_checkpoints/`) are not data.
const isHidden = (name: string) => name.startsWith('.');

function listFiles(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    compareNames(a.name, b.name),
  )) {
    if (isHidden(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, extensions));
    else if (extensions.includes(extname(entry.name).toLowerCase())) out.push(path);
  }
  return out;
}

// Python's sorted() on str compares code points; localeCompare would not match torchvision.
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Images in `root/<class>/<image>` (torchvision `ImageFolder`): classes are the sub-folder names
 * sorted by code point, labels their indices; files are found recursively and sorted the same
 * way; hidden files and folders (names starting with '.') are ignored, as are files with other
 * extensions. Files are read on `read` and decoded with sharp (on the loader's workers if it
 * has any), whatever their extension says: a PNG named `.JPEG` decodes as a PNG. To find every
 * undecodable file in one pass, iterate a `DataLoader` with `onError: 'skip'` and rebuild the
 * folder with `exclude`.
 */
export class ImageFolder implements ImageDataset {
  readonly root: string;
  /** Class names, sorted; index = label. */
  readonly classes: readonly string[];
  /** Class name -> label. */
  readonly classToIndex: ReadonlyMap<string, number>;
  /** Every image as `[path, label]`, in label then file order. */
  readonly samples: readonly (readonly [string, number])[];
  readonly transform: Transform | undefined;

  constructor(root: string, options: ImageFolderOptions = {}) {
    this.root = root;
    this.transform = options.transform;
    const extensions = (options.extensions ?? IMAGE_EXTENSIONS).map((e) => e.toLowerCase());
    let isDirectory = false;
    try {
      isDirectory = statSync(root).isDirectory();
    } catch {
      throw new DataError(root, 'ImageFolder root does not exist');
    }
    if (!isDirectory) throw new DataError(root, 'ImageFolder root is not a directory');
    const classes = readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !isHidden(e.name))
      .map((e) => e.name)
      .sort(compareNames);
    if (classes.length === 0)
      throw new DataError(
        root,
        'ImageFolder root has no class folders (expected root/<class>/<image>)',
      );
    const samples: [string, number][] = [];
    const exclude = new Set(options.exclude ?? []);
    classes.forEach((name, label) => {
      const files = listFiles(join(root, name), extensions).filter((f) => !exclude.has(f));
      if (files.length === 0 && !options.allowEmpty) {
        throw new DataError(
          join(root, name),
          `class folder '${name}' has no images with extensions ${extensions.join(', ')} (pass allowEmpty: true to keep it)`,
        );
      }
      for (const file of files) samples.push([file, label]);
    });
    this.classes = classes;
    this.classToIndex = new Map(classes.map((c, i) => [c, i]));
    this.samples = samples;
  }

  /** Number of samples. */
  get length(): number {
    return this.samples.length;
  }

  /** The file's bytes and label, not yet decoded. */
  async read(index: number): Promise<RawSample> {
    checkIndex('ImageFolder', index, this.samples.length);
    const [path, label] = this.samples[index];
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw new DataError(path, `cannot read image file (${code})`);
    }
    return { image: { bytes, source: path }, label, source: path };
  }

  /** The decoded, transformed sample; its augmentation is fixed by `context` (seed, epoch). */
  get(index: number, context?: SampleContext): Promise<Sample> {
    return getTransformed(this, index, context, decodeImage);
  }
}
