/**
 * How a webgl2 kernel reads its texture arguments: through GLSL functions that turn the index
 * into texture coordinates in f32, with the texture's size as a literal.
 *
 * gpu.js's own reads (`getFloatFromSampler2D`, `getMemoryOptimized32`, `getVec4FromSampler2D`)
 * divide integers by the texture's width (and, for four floats per texel, by 4) at every fetch.
 * A GPU without a vector integer divide runs those lane by lane: SwiftShader does, and the reads
 * then cost more than the multiply-adds they feed (measured in headless Chromium: a packed
 * matmul 1.4x faster with these reads, the same kernel otherwise). Before a kernel compiles,
 * `fastReads` rewrites each read `name[index]` of a texture argument into `valueOf_name(index)`
 * (a float) or, for gpu.js's `ArrayTexture(4)`, `texelOf_name(index)` (four floats), and
 * returns the GLSL of those functions for gpu.js's `nativeFunctions` setting. A function names
 * the argument's sampler as gpu.js's GLSL declares it (`user_<name>`).
 *
 * The arithmetic is exact for indices below 2^24: the row `floor((i + 0.5) * (1 / width))` may
 * be one off near a multiple of the width (the reciprocal and the product are rounded, and a
 * GPU's may be rounded worse than IEEE's), and one integer step in either direction, taken
 * without a branch (`step`), puts the column back in [0, width); every product is an integer
 * below 2^24, exact in f32. A branch there (an if per read) measured slower than gpu.js's reads.
 */

/** A GLSL function a gpu.js kernel calls by name (gpu.js's `nativeFunctions` setting). */
export interface NativeFunction {
  name: string;
  source: string;
  returnType: 'Number' | 'Array(4)';
}

/** The fields of a gpu.js GL texture that say how it stores its values. */
interface TextureShape {
  type?: unknown;
  size?: unknown;
  internalFormat?: unknown;
}

/** WebGL 2's `R32F`: one float per texel (gpu.js's scalar single-precision results). */
const R32F = 0x822e;

/** How a texture argument is read: one float per texel, four per texel, or whole texels. */
type ReadKind = 'float' | 'packed' | 'texel';

function readKind(value: unknown): ReadKind | null {
  if (typeof value !== 'object' || value === null) return null;
  const t = value as TextureShape;
  // gpu.js keeps a texture's size as an array or a typed array.
  const size = t.size as ArrayLike<number> | undefined;
  if (typeof size?.[0] !== 'number' || typeof size[1] !== 'number') return null;
  if (t.type === 'ArrayTexture(1)' && t.internalFormat === R32F) return 'float';
  if (t.type === 'MemoryOptimizedNumberTexture') return 'packed';
  if (t.type === 'ArrayTexture(4)') return 'texel';
  return null;
}

/** A GLSL float literal of `v`. */
function float(v: number): string {
  const s = String(v);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** GLSL lines setting `x`, `y` to the texel coordinates of texel index `t` (see the file comment). */
function coordinates(t: string, width: number): string[] {
  const w = `${width}.0`;
  return [
    `  float y = floor((${t} + 0.5) * ${float(1 / width)});`,
    `  float x = ${t} - y * ${w};`,
    `  float fix = step(${w}, x) - step(x, -0.5);`,
    '  y += fix;',
    `  x -= fix * ${w};`,
  ];
}

function readFunction(name: string, kind: ReadKind, size: ArrayLike<number>): NativeFunction {
  const w = size[0];
  const h = size[1];
  const sample = `texture(user_${name}, vec2(x + 0.5, y + 0.5) * vec2(${float(1 / w)}, ${float(1 / h)}))`;
  if (kind === 'texel') {
    const fn = `texelOf_${name}`;
    const source = [`vec4 ${fn}(float i) {`, ...coordinates('i', w), `  return ${sample};`, '}'];
    return { name: fn, source: source.join('\n'), returnType: 'Array(4)' };
  }
  const fn = `valueOf_${name}`;
  if (kind === 'float') {
    const source = [`float ${fn}(float i) {`, ...coordinates('i', w), `  return ${sample}.r;`, '}'];
    return { name: fn, source: source.join('\n'), returnType: 'Number' };
  }
  // Four floats per texel: element i is component i mod 4 of texel floor(i / 4) (exact: 4 is a
  // power of two).
  const source = [
    `float ${fn}(float i) {`,
    '  float t = floor(i / 4.0);',
    '  float c = i - t * 4.0;',
    ...coordinates('t', w),
    `  vec4 v = ${sample};`,
    '  return c < 0.5 ? v.r : (c < 1.5 ? v.g : (c < 2.5 ? v.b : v.a));',
    '}',
  ];
  return { name: fn, source: source.join('\n'), returnType: 'Number' };
}

/** The index of the bracket closing the one at `open`, or -1. */
function closing(source: string, open: number): number {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '[') depth++;
    else if (source[i] === ']' && --depth === 0) return i;
  }
  return -1;
}

const IDENTIFIER = /[A-Za-z0-9_$.]/;

/**
 * `source` (a gpu.js kernel `function(a, b, ...) {...}`) with its one-index reads of the texture
 * arguments in `args` rewritten as calls of the read functions it returns (see the file
 * comment). A read followed by another index (`p[i][0]`) is left to gpu.js.
 */
export function fastReads(
  source: string,
  args: readonly unknown[],
): { source: string; natives: NativeFunction[] } {
  const header = /^function\s*\(([^)]*)\)/.exec(source);
  if (!header) return { source, natives: [] };
  const names = header[1].split(',').map((s) => s.trim());
  let body = source;
  const natives: NativeFunction[] = [];
  names.forEach((name, k) => {
    const kind = readKind(args[k]);
    if (!name || kind === null) return;
    const fn = readFunction(name, kind, (args[k] as { size: ArrayLike<number> }).size);
    let out = '';
    let from = 0;
    let used = false;
    for (let at = body.indexOf(`${name}[`, header[0].length); at >= 0; ) {
      const open = at + name.length;
      const close = closing(body, open);
      const isRead = (at === 0 || !IDENTIFIER.test(body[at - 1])) && close > 0;
      if (isRead && body[close + 1] !== '[') {
        out += `${body.slice(from, at)}${fn.name}(${body.slice(open + 1, close)})`;
        from = close + 1;
        used = true;
      }
      at = body.indexOf(`${name}[`, isRead && close > 0 ? close + 1 : open);
    }
    if (!used) return;
    body = out + body.slice(from);
    natives.push(fn);
  });
  return { source: body, natives };
}
