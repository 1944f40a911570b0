/**
 * Pictures of a model as pixels, with no canvas or image library, so that the CLI (which encodes
 * them as PNG) and the web page (which puts them on a canvas) draw the same thing: conv1's
 * filters (the paper's Figure 3) and feature maps, as grids of tiles each normalized on its own.
 */
import type { AlexNet } from './alexnet.js';

/** One square tile of a grid: `channels` planes of `side * side` values (CHW), any range. */
export interface Tile {
  data: Float32Array;
  channels: 1 | 3;
  side: number;
}

/**
 * Splits a `[N, C, k, k]` convolution weight into N tiles: colour tiles when C is 3 (RGB
 * filters, as the paper's Figure 3), otherwise grey tiles of the mean over the C input channels.
 */
export function filterTiles(values: Float32Array, shape: readonly number[]): Tile[] {
  const [n = 0, c = 0, k = 0] = shape;
  const plane = k * k;
  const tiles: Tile[] = [];
  for (let o = 0; o < n; o++) {
    const base = o * c * plane;
    if (c === 3) {
      tiles.push({ data: values.slice(base, base + 3 * plane), channels: 3, side: k });
    } else {
      // Any other depth: the mean over input channels shows the spatial pattern.
      const mean = new Float32Array(plane);
      for (let i = 0; i < c; i++)
        for (let p = 0; p < plane; p++) mean[p] += (values[base + i * plane + p] as number) / c;
      tiles.push({ data: mean, channels: 1, side: k });
    }
  }
  return tiles;
}

/** `[C, H, W]` activations (H = W) as C grey tiles. */
export function mapTiles(values: Float32Array, shape: readonly number[]): Tile[] {
  const [c = 0, h = 0] = shape;
  const plane = h * h;
  return Array.from({ length: c }, (_, i) => ({
    data: values.slice(i * plane, (i + 1) * plane),
    channels: 1 as const,
    side: h,
  }));
}

/** Options of `tileGrid`. */
export interface GridOptions {
  /** Tiles per row. Default: about square. */
  columns?: number;
  /** Pixels per tile value (nearest neighbour). Default: tiles about 48 px wide. */
  scale?: number;
  /** Pixels between tiles. Default 2. */
  gap?: number;
}

/** An RGBA picture: `width * height * 4` bytes, rows top to bottom (a canvas `ImageData`'s layout). */
export interface Pixels {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

/**
 * Draws tiles in a grid on a dark background, each tile min-max normalized on its own (a
 * constant tile is black). Throws a RangeError when there are no tiles.
 */
export function tileGrid(tiles: readonly Tile[], options: GridOptions = {}): Pixels {
  if (tiles.length === 0) throw new RangeError('tileGrid: no tiles');
  const side = tiles[0]?.side ?? 1;
  const columns = options.columns ?? Math.ceil(Math.sqrt(tiles.length));
  const rows = Math.ceil(tiles.length / columns);
  const scale = options.scale ?? Math.max(1, Math.round(48 / side));
  const gap = options.gap ?? 2;
  const cell = side * scale + gap;
  const width = columns * cell + gap;
  const height = rows * cell + gap;
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let p = 0; p < width * height; p++) rgba.set([24, 24, 24, 255], p * 4);
  tiles.forEach((tile, t) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of tile.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    const range = hi - lo || 1;
    const plane = tile.side * tile.side;
    const x0 = gap + (t % columns) * cell;
    const y0 = gap + Math.floor(t / columns) * cell;
    for (let y = 0; y < tile.side * scale; y++) {
      for (let x = 0; x < tile.side * scale; x++) {
        const p = Math.floor(y / scale) * tile.side + Math.floor(x / scale);
        const out = ((y0 + y) * width + x0 + x) * 4;
        for (let ch = 0; ch < 3; ch++) {
          const v = tile.data[(tile.channels === 3 ? ch : 0) * plane + p] as number;
          rgba[out + ch] = Math.round((255 * (v - lo)) / range);
        }
      }
    }
  });
  return { width, height, rgba };
}

/**
 * conv1's filters as one picture (the paper's Figure 3 for this model): colour tiles for RGB
 * input, grey ones (the mean over input channels) otherwise, up to 16 per row. Reads the weight
 * with `await data()`, so it works on every backend.
 */
export async function conv1FilterPicture(
  model: AlexNet,
  options: GridOptions = {},
): Promise<Pixels> {
  const weight = model.stateDict().get(`${model.layerPaths.conv1}.weight`);
  if (!weight) throw new Error('conv1FilterPicture: the model has no conv1 weight');
  const tiles = filterTiles((await weight.data()) as Float32Array, weight.shape);
  return tileGrid(tiles, { columns: Math.min(16, tiles.length), ...options });
}
