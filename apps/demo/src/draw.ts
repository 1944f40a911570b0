/**
 * Pictures of a run: training curves (drawn as SVG, rasterized with sharp) and grids of
 * filters or feature maps (each tile normalized on its own, as the paper's Figure 3).
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  type EpochSummary,
  type GridOptions,
  type Pixels,
  type Tile,
  tileGrid,
} from '@gpunet/alexnet';
import sharp from 'sharp';

/** Writes bytes to `path` through a temporary file, so a reader never sees half a picture. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, bytes);
  await rename(temporary, path);
}

/** Encodes pixels from @gpunet/alexnet's `tileGrid` or `conv1FilterPicture` as a PNG. */
export async function pixelsPng(pixels: Pixels): Promise<Uint8Array> {
  const { width, height, rgba } = pixels;
  return sharp(rgba, { raw: { width, height, channels: 4 } })
    .png()
    .toBuffer();
}

/** Draws tiles in a grid (`tileGrid`, each tile normalized on its own) as a PNG. */
export async function gridPng(tiles: Tile[], options: GridOptions = {}): Promise<Uint8Array> {
  return pixelsPng(tileGrid(tiles, options));
}

/** Data of `curvesPng`. */
export interface Curves {
  /** Per-epoch summaries (train loss and accuracy, validation top-1/top-5 and loss). */
  history: EpochSummary[];
  /** Per-batch training loss, in order (drawn faintly behind the epoch means). */
  batchLoss?: number[];
  title?: string;
}

const escapeXml = (s: string) =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] ?? c);

interface Series {
  label: string;
  colour: string;
  points: [number, number][];
  faint?: boolean;
}

function panel(
  x0: number,
  title: string,
  series: Series[],
  xMax: number,
  yRange: [number, number],
  yFormat: (v: number) => string,
  legendAtBottom = false,
): string {
  const [w, h, left, top] = [400, 260, 56, 40];
  const [yLo, yHi] = yRange;
  const px = (x: number) => x0 + left + (x / xMax) * w;
  const py = (y: number) => top + h - ((y - yLo) / (yHi - yLo || 1)) * h;
  const parts: string[] = [
    `<text x="${x0 + left + w / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(title)}</text>`,
    `<rect x="${x0 + left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = yLo + ((yHi - yLo) * i) / 4;
    parts.push(
      `<line x1="${x0 + left}" x2="${x0 + left + w}" y1="${py(y)}" y2="${py(y)}" stroke="#eee"/>`,
      `<text x="${x0 + left - 6}" y="${py(y) + 4}" text-anchor="end" font-size="11">${yFormat(y)}</text>`,
    );
  }
  const ticks = Math.min(xMax, 10);
  for (let i = 0; i <= ticks; i++) {
    const x = Math.round((xMax * i) / ticks);
    parts.push(
      `<text x="${px(x)}" y="${top + h + 16}" text-anchor="middle" font-size="11">${x}</text>`,
    );
  }
  parts.push(
    `<text x="${x0 + left + w / 2}" y="${top + h + 34}" text-anchor="middle" font-size="12">epoch</text>`,
  );
  // A series without points (top-5 with 5 classes or fewer) has no line and no legend entry.
  const shown = series.filter((s) => s.points.length > 0);
  shown.forEach((s, i) => {
    const d = s.points.map(
      ([x, y], k) => `${k ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`,
    );
    parts.push(
      `<path d="${d.join('')}" fill="none" stroke="${s.colour}" stroke-width="${s.faint ? 1 : 2.5}" opacity="${s.faint ? 0.35 : 1}"/>`,
    );
    if (!s.faint) {
      for (const [x, y] of s.points)
        parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3.5" fill="${s.colour}"/>`);
    }
    const ly = legendAtBottom ? top + h - 10 - (shown.length - 1 - i) * 16 : top + 14 + i * 16;
    parts.push(
      `<line x1="${x0 + left + w - 150}" x2="${x0 + left + w - 130}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.colour}" stroke-width="2.5"/>`,
      `<text x="${x0 + left + w - 125}" y="${ly}" font-size="11">${escapeXml(s.label)}</text>`,
    );
  });
  return parts.join('\n');
}

/** Loss and accuracy per epoch, side by side, as a PNG (940x340). */
export async function curvesPng(curves: Curves): Promise<Uint8Array> {
  return sharp(Buffer.from(curvesSvg(curves)))
    .png()
    .toBuffer();
}

/**
 * The SVG of `curvesPng`. Validation top-5 is drawn only when the history has it (more than 5
 * classes).
 */
export function curvesSvg(curves: Curves): string {
  const { history, batchLoss = [] } = curves;
  const epochs = Math.max(history.length, 1);
  const at = (key: keyof EpochSummary): [number, number][] =>
    history
      .filter((e) => typeof e[key] === 'number')
      .map((e) => [e.epoch, e[key] as number] as [number, number]);
  const perBatch = batchLoss.length / epochs;
  const batchSeries: [number, number][] = batchLoss.map((v, i) => [(i + 1) / perBatch, v]);
  const lossValues = [...batchLoss, ...history.flatMap((e) => [e.trainLoss, e.valLoss ?? 0])];
  const lossMax = Math.max(...lossValues.filter(Number.isFinite), 1e-3) * 1.05;
  const lossPanel = panel(
    0,
    'Loss (cross-entropy)',
    [
      { label: 'train, per batch', colour: '#7aa6d8', points: batchSeries, faint: true },
      { label: 'train, epoch mean', colour: '#1f5fa8', points: at('trainLoss') },
      { label: 'validation', colour: '#d9480f', points: at('valLoss') },
    ],
    epochs,
    [0, lossMax],
    (v) => v.toFixed(2),
  );
  const accuracyPanel = panel(
    470,
    'Accuracy',
    [
      { label: 'train top-1', colour: '#1f5fa8', points: at('trainAccuracy') },
      { label: 'validation top-1', colour: '#d9480f', points: at('valTop1') },
      { label: 'validation top-5', colour: '#2b8a3e', points: at('valTop5') },
    ],
    epochs,
    [0, 1],
    (v) => `${Math.round(v * 100)}%`,
    true,
  );
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="940" height="340" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${curves.title ? `<text x="470" y="334" text-anchor="middle" font-size="11" fill="#666">${escapeXml(curves.title)}</text>` : ''}
${lossPanel}
${accuracyPanel}
</svg>`;
  return svg;
}
