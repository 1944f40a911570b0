/**
 * WebGPU in Node: gpu.js's webgpu mode reads `navigator.gpu`, which Node does not have; Dawn
 * (the npm package `webgpu`) provides it. Loaded lazily, only when the webgpu backend (or
 * `auto`) starts in Node: a browser never reaches this code, and bundlers leave the
 * `webgpu` import alone.
 *
 * Dawn reaches the GPU through Vulkan (the system's loader, `libvulkan1` on Debian). Drivers:
 * - the user's own `VK_ICD_FILENAMES` (or `VK_DRIVER_FILES`) is used as it is;
 * - otherwise the system's Vulkan drivers (`/usr/share/vulkan/icd.d`, `/etc/vulkan/icd.d`) are
 *   tried first: on a machine with a GPU and its Vulkan driver, that is the GPU;
 * - where they give no adapter (no GPU; Mesa 22's lavapipe lacks a feature Dawn requires),
 *   SwiftShader's Vulkan driver, which Chromium ships, is used (`vk_swiftshader_icd.json`
 *   beside `CHROMIUM_PATH`, or Debian's `/usr/lib/chromium`): a CPU, correct but slow.
 */

type NodeFs = typeof import('node:fs');
type NodePath = typeof import('node:path');

/**
 * A Node module by a name in a variable: browser bundlers (esbuild, Vite) do not follow it, so
 * importing @gpunet/kernels in a page pulls in nothing of Node's.
 */
async function nodeModule<T>(name: string): Promise<T> {
  return (await import(/* @vite-ignore */ name)) as T;
}

/** What the backend needs of a WebGPU adapter's description (`GPUAdapterInfo`). */
export interface WebGPUAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software adapter (SwiftShader). */
  isFallbackAdapter?: boolean;
}

interface AdapterLike {
  info?: WebGPUAdapterInfo;
}

/** The part of `navigator.gpu` used here. */
export interface WebGPUEntry {
  requestAdapter(): Promise<AdapterLike | null>;
}

interface DawnModule {
  create(flags: string[]): WebGPUEntry;
}

/** How Node's WebGPU was set up: the Vulkan drivers used, and the adapter they gave. */
export interface NodeWebGPU {
  /** `user` (VK_ICD_FILENAMES/VK_DRIVER_FILES), `system` (the installed drivers) or the SwiftShader ICD's path. */
  drivers: string;
  adapter: WebGPUAdapterInfo;
}

const SYSTEM_ICD_DIRS = [
  '/usr/share/vulkan/icd.d',
  '/etc/vulkan/icd.d',
  '/usr/local/share/vulkan/icd.d',
];

/** Where Chromium's SwiftShader Vulkan driver description is, or null. */
export async function findSwiftShaderIcd(
  env: NodeJS.ProcessEnv = process.env,
): Promise<string | null> {
  const { existsSync, realpathSync } = await nodeModule<NodeFs>('node:fs');
  const { dirname, join } = await nodeModule<NodePath>('node:path');
  const dirs: string[] = [];
  if (env.CHROMIUM_PATH && existsSync(env.CHROMIUM_PATH)) {
    dirs.push(dirname(realpathSync(env.CHROMIUM_PATH)));
  }
  // Debian's and Fedora's chromium packages.
  dirs.push('/usr/lib/chromium', '/usr/lib64/chromium-browser');
  for (const dir of dirs) {
    const icd = join(dir, 'vk_swiftshader_icd.json');
    if (existsSync(icd)) return icd;
  }
  return null;
}

/** Whether a Vulkan driver other than lavapipe (which Dawn cannot use) is installed. */
async function hasSystemDrivers(): Promise<boolean> {
  const { existsSync, readdirSync } = await nodeModule<NodeFs>('node:fs');
  return SYSTEM_ICD_DIRS.some(
    (dir) =>
      existsSync(dir) &&
      readdirSync(dir).some((f) => f.endsWith('.json') && !f.startsWith('lvp_icd')),
  );
}

let setup: Promise<NodeWebGPU> | null = null;

/**
 * Makes `navigator.gpu` Dawn's WebGPU in this Node process (once; later calls return the
 * first call's result), or throws one sentence saying what is missing.
 */
export function installNodeWebGPU(): Promise<NodeWebGPU> {
  setup ??= install();
  setup.catch(() => {
    setup = null;
  });
  return setup;
}

async function install(): Promise<NodeWebGPU> {
  let dawn: DawnModule;
  try {
    dawn = await nodeModule<DawnModule>('webgpu');
  } catch (error) {
    throw new Error(
      `webgpu in Node needs the \`webgpu\` package (Dawn) and the Vulkan loader (Debian: apt install libvulkan1; scripts/setup.sh installs it): ${(error as Error).message}`,
    );
  }
  const env = process.env;
  const tries: { drivers: string; icd: string | null }[] = [];
  if (env.VK_ICD_FILENAMES || env.VK_DRIVER_FILES) tries.push({ drivers: 'user', icd: null });
  else {
    if (await hasSystemDrivers()) tries.push({ drivers: 'system', icd: null });
    const swiftShader = await findSwiftShaderIcd(env);
    if (swiftShader) tries.push({ drivers: swiftShader, icd: swiftShader });
  }
  for (const { drivers, icd } of tries) {
    // The Vulkan loader reads the variable when Dawn creates its instance, in `create`.
    if (icd) env.VK_ICD_FILENAMES = icd;
    const gpu = dawn.create(['backend=vulkan']);
    const adapter = await gpu.requestAdapter();
    if (!adapter?.info) {
      if (icd) delete env.VK_ICD_FILENAMES;
      continue;
    }
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true });
    return { drivers, adapter: adapter.info };
  }
  throw new Error(
    tries.length === 0
      ? 'webgpu in Node found no Vulkan driver: install a GPU driver with Vulkan, or Chromium (its SwiftShader driver, vk_swiftshader_icd.json), or set VK_ICD_FILENAMES'
      : `webgpu in Node: Dawn found no adapter with the Vulkan drivers tried (${tries.map((t) => t.drivers).join(', ')})`,
  );
}

/** Why an adapter is a CPU rasteriser rather than a GPU, or null if it is a GPU. */
export function softwareAdapter(info: WebGPUAdapterInfo | undefined): string | null {
  if (!info) return null;
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const match = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render/i.exec(text);
  if (match)
    return `the adapter is ${match[0]}, a CPU rasteriser (${info.description || info.device})`;
  if (info.isFallbackAdapter)
    return `the adapter is a fallback (software) adapter (${info.description})`;
  return null;
}
