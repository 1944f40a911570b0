/**
 * A restricted pickle reader for PyTorch state dicts, in the spirit of `torch.load(...,
 * weights_only=True)`: it understands the opcodes and the handful of globals a state dict needs
 * (OrderedDict, `torch._utils._rebuild_tensor_v2`, the storage classes) and never calls or
 * imports anything. Any other opcode or global throws a `PickleError` naming it.
 *
 * Reference: Python's `Lib/pickletools.py` (opcode table) and `torch/_weights_only_unpickler.py`.
 */

/** Thrown on a refused or malformed pickle; the message names the opcode or global and the byte offset. */
export class PickleError extends Error {
  override name = 'PickleError';
}

/** A reference to a storage saved beside the pickle (`archive/data/<key>`). */
export interface StorageRef {
  kind: 'storage';
  /** The storage class name, e.g. `FloatStorage`. */
  storageType: string;
  /** File name under `data/`. */
  key: string;
  /** Saved device, e.g. `cpu` or `cuda:0` (ignored: everything loads on the current backend). */
  location: string;
  /** Elements in the storage. */
  numel: number;
}

/** A tensor view into a storage, as `_rebuild_tensor_v2` describes it. */
export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  /** Offset of the first element, in elements. */
  storageOffset: number;
  shape: number[];
  /** Element strides per dim (may be non-contiguous). */
  stride: number[];
}

/** A global the reader accepts, kept as a name; only the reader interprets it. */
interface GlobalRef {
  kind: 'global';
  name: string;
}

/** Values a state-dict pickle decodes to. Dicts become Maps; tuples and lists arrays. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | StorageRef
  | TensorRef
  | GlobalRef;

const STORAGE_TYPES = new Set([
  'FloatStorage',
  'DoubleStorage',
  'HalfStorage',
  'BFloat16Storage',
  'LongStorage',
  'IntStorage',
  'ShortStorage',
  'CharStorage',
  'ByteStorage',
  'BoolStorage',
]);

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_parameter',
  ...[...STORAGE_TYPES].map((s) => `torch.${s}`),
]);

// Names of the opcodes we refuse, for messages (from pickletools).
const REFUSED_OPCODES: Record<number, string> = {
  105: 'INST',
  111: 'OBJ',
  129: 'NEWOBJ',
  146: 'NEWOBJ_EX',
  130: 'EXT1',
  131: 'EXT2',
  132: 'EXT4',
  80: 'PERSID',
  73: 'INT',
  76: 'LONG',
  83: 'STRING',
  70: 'FLOAT',
  86: 'UNICODE',
  112: 'PUT',
  103: 'GET',
  139: 'LONG4',
  142: 'BINBYTES8',
  143: 'EMPTY_SET',
  144: 'ADDITEMS',
  145: 'FROZENSET',
  150: 'BYTEARRAY8',
  151: 'NEXT_BUFFER',
  152: 'READONLY_BUFFER',
};

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

/**
 * Decodes a state-dict pickle (`data.pkl`). Persistent ids (storages) become `StorageRef`s and
 * `_rebuild_tensor_v2` calls become `TensorRef`s; nothing is executed.
 */
export function readPickle(bytes: Uint8Array, fileName = 'data.pkl'): PickleValue {
  return readPickleAt(bytes, 0, fileName).value;
}

/**
 * Decodes one pickle starting at byte `start` and returns it with the offset just past its STOP
 * opcode; the legacy `.pth` format is several pickles in a row followed by raw storages.
 */
export function readPickleAt(
  bytes: Uint8Array,
  start: number,
  fileName: string,
): { value: PickleValue; end: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = start;
  let opStart = start;

  const fail = (message: string): never => {
    throw new PickleError(`${fileName}: ${message} (opcode at byte ${opStart})`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.byteLength)
      fail(
        `unexpected end of data: needs ${n} more bytes, file has ${bytes.byteLength}; truncated?`,
      );
  };
  const u8 = () => {
    need(1);
    return bytes[pos++];
  };
  const u32 = () => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const text = (n: number, encoding: 'utf-8' | 'latin1' = 'utf-8') => {
    need(n);
    const s = new TextDecoder(encoding).decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('unterminated text line; truncated?');
    const s = new TextDecoder('latin1').decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) return fail('stack underflow; corrupt pickle?');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('stack underflow; corrupt pickle?');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const i = stack.lastIndexOf(MARK);
    if (i < 0) fail('no MARK on the stack; corrupt pickle?');
    const items = stack.splice(i) as PickleValue[];
    items.shift();
    return items;
  };
  const asDict = (v: PickleValue, op: string): Map<PickleValue, PickleValue> =>
    v instanceof Map ? v : fail(`${op} on a ${describe(v)}, not a dict`);
  const asList = (v: PickleValue, op: string): PickleValue[] =>
    Array.isArray(v) ? v : fail(`${op} on a ${describe(v)}, not a list`);
  const pushGlobal = (module: string, name: string) => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      fail(
        `global '${full}' is not allowed: a state dict needs only ${[...ALLOWED_GLOBALS].slice(0, 3).join(', ')} and torch storage classes`,
      );
    }
    stack.push({ kind: 'global', name: full });
  };

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: length only, data follows inline
        need(8);
        pos += 8;
        break;
      case 0x2e: // STOP
        return { value: pop(), end: pos };
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x64: {
        // DICT
        const items = popMark();
        const d = new Map<PickleValue, PickleValue>();
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        asList(top(), 'APPEND').push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        asList(top(), 'APPENDS').push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        asDict(top(), 'SETITEM').set(k, v);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        const d = asDict(top(), 'SETITEMS');
        for (let i = 0; i + 1 < items.length; i += 2) d.set(items[i], items[i + 1]);
        break;
      }
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes
        const n = u8();
        need(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[pos + i]);
        if (n > 0 && bytes[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(
          v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
            ? Number(v)
            : v,
        );
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(text(u8()));
        break;
      case 0x58: // BINUNICODE
        stack.push(text(u32()));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8);
        const n = Number(view.getBigUint64(pos, true));
        pos += 8;
        stack.push(text(n));
        break;
      }
      case 0x55: // SHORT_BINSTRING (Python 2 str)
        stack.push(text(u8(), 'latin1'));
        break;
      case 0x54: // BINSTRING
        stack.push(text(u32(), 'latin1'));
        break;
      case 0x43: // SHORT_BINBYTES
      case 0x42: {
        // BINBYTES
        const n = op === 0x43 ? u8() : u32();
        need(n);
        stack.push(bytes.slice(pos, pos + n));
        pos += n;
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const module = line();
        pushGlobal(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string')
          fail('STACK_GLOBAL needs two strings');
        pushGlobal(module as string, name as string);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo entry ${i} is missing; corrupt pickle?`);
        stack.push(memo.get(i) as PickleValue);
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x51: // BINPERSID
        stack.push(persistentLoad(pop(), fail));
        break;
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(reduce(callable, args, fail));
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's attributes (state_dict()._metadata), which we drop
        const state = pop();
        const target = top();
        if (!(target instanceof Map) || !(state instanceof Map || state === null)) {
          fail(`BUILD on a ${describe(target)} is not allowed`);
        }
        break;
      }
      default: {
        const name = REFUSED_OPCODES[op];
        fail(
          name
            ? `opcode ${name} is not allowed in a state dict`
            : `unknown opcode 0x${op.toString(16).padStart(2, '0')}; corrupt pickle?`,
        );
      }
    }
  }
}

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'tuple/list';
  if (v instanceof Map) return 'dict';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.kind === 'global' ? `global ${v.name}` : v.kind;
  return typeof v;
}

function persistentLoad(pid: PickleValue, fail: (m: string) => never): StorageRef {
  // torch.save writes ('storage', storage_type, key, location, numel), and the legacy format
  // adds view_metadata, None unless the storage is a view (a pre-1.0 feature we do not read).
  if (!Array.isArray(pid) || pid[0] !== 'storage' || (pid.length !== 5 && pid.length !== 6)) {
    return fail(
      `persistent id ${JSON.stringify(pid, (_, v) => (typeof v === 'bigint' ? String(v) : v))} is not a storage reference`,
    );
  }
  const [, type, key, location, numel, viewMetadata] = pid;
  if (viewMetadata !== undefined && viewMetadata !== null) {
    return fail('storage views of the pre-1.0 serialization format are not supported');
  }
  if (typeof type !== 'object' || type === null || !('kind' in type) || type.kind !== 'global') {
    return fail('storage reference without a storage class');
  }
  const storageType = type.name.replace(/^torch\./, '');
  if (!STORAGE_TYPES.has(storageType))
    return fail(`storage class '${type.name}' is not a torch storage`);
  if (typeof key !== 'string' || typeof location !== 'string' || typeof numel !== 'number') {
    return fail('storage reference has a malformed key, location or size');
  }
  return { kind: 'storage', storageType, key, location, numel };
}

function intList(v: PickleValue, what: string, fail: (m: string) => never): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isInteger(d))) {
    return fail(`_rebuild_tensor_v2: ${what} must be a tuple of integers`);
  }
  return v as number[];
}

function reduce(callable: PickleValue, args: PickleValue, fail: (m: string) => never): PickleValue {
  if (
    typeof callable !== 'object' ||
    callable === null ||
    !('kind' in callable) ||
    callable.kind !== 'global'
  ) {
    return fail(`REDUCE on a ${describe(callable)}; only allowed globals may be called`);
  }
  if (!Array.isArray(args)) return fail(`REDUCE of ${callable.name} without an argument tuple`);
  switch (callable.name) {
    case 'collections.OrderedDict':
      return new Map();
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      const [storage, storageOffset, shape, stride] = args;
      if (
        typeof storage !== 'object' ||
        storage === null ||
        !('kind' in storage) ||
        storage.kind !== 'storage'
      ) {
        return fail(`${callable.name}: first argument is a ${describe(storage)}, not a storage`);
      }
      if (typeof storageOffset !== 'number')
        return fail(`${callable.name}: storage offset must be an integer`);
      return {
        kind: 'tensor',
        storage,
        storageOffset,
        shape: intList(shape, 'size', fail),
        stride: intList(stride, 'stride', fail),
      };
    }
    case 'torch._utils._rebuild_parameter':
      return args[0];
    default:
      return fail(`calling ${callable.name} is not allowed`);
  }
}
