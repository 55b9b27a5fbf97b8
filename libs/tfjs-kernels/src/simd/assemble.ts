/**
 * A small assembler for WebAssembly modules written in the flat (non-folded) text format: the
 * subset of instructions the project's SIMD kernels use, so that they can be kept as readable
 * source here and need no toolchain (no wat2wasm, no emscripten) at build or run time.
 *
 * Each function's body is a sequence of instructions separated by white space, `;;` comments to
 * the end of the line. Locals and labels are named (`$name`); `block $l` / `loop $l` / `if $l`
 * open a label (void block type only) that `br $l` / `br_if $l` refer to, `end` closes it. Memory
 * instructions take optional `offset=N` and `align=N` (bytes) immediates. The module imports its
 * memory as `env.memory` (so it runs on another module's heap) and exports every function by name.
 */

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';

export interface WasmFunctionSource {
  /** Export name. */
  name: string;
  /** Named parameters, in call order. */
  params: readonly (readonly [string, ValType])[];
  /** Named locals (zero-initialised). */
  locals?: readonly (readonly [string, ValType])[];
  results?: readonly ValType[];
  /** Flat instructions. */
  body: string;
}

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

type Immediate = 'none' | 'local' | 'label' | 'block' | 'i32' | 'f32' | 'f64' | 'mem' | 'lane' | 'shuffle';

interface OpInfo {
  /** 0xfd for SIMD instructions. */
  prefix?: number;
  code: number;
  imm: Immediate;
  /** Natural alignment (log2 bytes) of memory instructions. */
  align?: number;
}

const op = (code: number, imm: Immediate = 'none', align?: number): OpInfo => (align === undefined ? { code, imm } : { code, imm, align });
const simd = (code: number, imm: Immediate = 'none', align?: number): OpInfo => ({ ...op(code, imm, align), prefix: 0xfd });

const OPS: Record<string, OpInfo> = {
  unreachable: op(0x00),
  nop: op(0x01),
  block: op(0x02, 'block'),
  loop: op(0x03, 'block'),
  if: op(0x04, 'block'),
  else: op(0x05),
  end: op(0x0b),
  br: op(0x0c, 'label'),
  br_if: op(0x0d, 'label'),
  return: op(0x0f),
  drop: op(0x1a),
  select: op(0x1b),
  'local.get': op(0x20, 'local'),
  'local.set': op(0x21, 'local'),
  'local.tee': op(0x22, 'local'),
  'i32.load': op(0x28, 'mem', 2),
  'f32.load': op(0x2a, 'mem', 2),
  'f64.load': op(0x2b, 'mem', 3),
  'i32.store': op(0x36, 'mem', 2),
  'f32.store': op(0x38, 'mem', 2),
  'f64.store': op(0x39, 'mem', 3),
  'i32.const': op(0x41, 'i32'),
  'f32.const': op(0x43, 'f32'),
  'f64.const': op(0x44, 'f64'),
  'i32.eqz': op(0x45),
  'i32.eq': op(0x46),
  'i32.ne': op(0x47),
  'i32.lt_s': op(0x48),
  'i32.lt_u': op(0x49),
  'i32.gt_s': op(0x4a),
  'i32.gt_u': op(0x4b),
  'i32.le_s': op(0x4c),
  'i32.le_u': op(0x4d),
  'i32.ge_s': op(0x4e),
  'i32.ge_u': op(0x4f),
  'f32.gt': op(0x5e),
  'i32.add': op(0x6a),
  'i32.sub': op(0x6b),
  'i32.mul': op(0x6c),
  'i32.and': op(0x71),
  'i32.or': op(0x72),
  'i32.shl': op(0x74),
  'i32.shr_u': op(0x76),
  'f32.add': op(0x92),
  'f32.sub': op(0x93),
  'f32.mul': op(0x94),
  'f64.add': op(0xa0),
  'f32.demote_f64': op(0xb6),
  'f64.promote_f32': op(0xbb),
  'v128.load': simd(0x00, 'mem', 4),
  'v128.load32_splat': simd(0x09, 'mem', 2),
  'v128.store': simd(0x0b, 'mem', 4),
  'i8x16.shuffle': simd(0x0d, 'shuffle'),
  'f32x4.splat': simd(0x13),
  'f32x4.extract_lane': simd(0x1f, 'lane'),
  'f32x4.eq': simd(0x41),
  'f32x4.ne': simd(0x42),
  'f32x4.lt': simd(0x43),
  'f32x4.gt': simd(0x44),
  'f32x4.le': simd(0x45),
  'f32x4.ge': simd(0x46),
  'v128.not': simd(0x4d),
  'v128.and': simd(0x4e),
  'v128.andnot': simd(0x4f),
  'v128.or': simd(0x50),
  'v128.xor': simd(0x51),
  'v128.bitselect': simd(0x52),
  'f32x4.demote_f64x2_zero': simd(0x5e),
  'f64x2.promote_low_f32x4': simd(0x5f),
  'f32x4.abs': simd(0xe0),
  'f32x4.neg': simd(0xe1),
  'f32x4.add': simd(0xe4),
  'f32x4.sub': simd(0xe5),
  'f32x4.mul': simd(0xe6),
  'f32x4.div': simd(0xe7),
  'f32x4.min': simd(0xe8),
  'f32x4.max': simd(0xe9),
  'f64x2.add': simd(0xf0),
};

function unsignedLeb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    const byte = v & 0x7f;
    v >>>= 7;
    out.push(v === 0 ? byte : byte | 0x80);
  } while (v !== 0);
}

function signedLeb(value: number, out: number[]): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

function bytesOf(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}

function withLength(content: number[], out: number[]): void {
  unsignedLeb(content.length, out);
  out.push(...content);
}

function parseNumber(token: string, what: string): number {
  const t = token.toLowerCase();
  const v = t === 'inf' || t === '+inf' ? Infinity : t === '-inf' ? -Infinity : t === 'nan' ? NaN : Number(token);
  if (Number.isNaN(v) && t !== 'nan') throw new Error(`assemble: bad ${what} '${token}'`);
  return v;
}

/** Encodes one function body (locals and instructions) into the code section's format. */
function encodeBody(fn: WasmFunctionSource): number[] {
  const names = new Map<string, number>();
  for (const [name] of [...fn.params, ...(fn.locals ?? [])]) {
    if (names.has(`$${name}`)) throw new Error(`assemble ${fn.name}: duplicate local ${name}`);
    names.set(`$${name}`, names.size);
  }
  const out: number[] = [];
  const locals = fn.locals ?? [];
  unsignedLeb(locals.length, out);
  for (const [, type] of locals) {
    out.push(1, VALTYPE[type]);
  }
  const tokens = fn.body.replace(/;;[^\n]*/g, ' ').split(/\s+/).filter((t) => t.length > 0);
  const labels: string[] = [];
  const ref = (token: string | undefined, what: string): string => {
    if (token === undefined) throw new Error(`assemble ${fn.name}: missing ${what}`);
    return token;
  };
  for (let i = 0; i < tokens.length; i++) {
    const mnemonic = tokens[i]!;
    const info = OPS[mnemonic];
    if (info === undefined) throw new Error(`assemble ${fn.name}: unknown instruction '${mnemonic}'`);
    if (info.prefix !== undefined) {
      out.push(info.prefix);
      unsignedLeb(info.code, out);
    } else {
      out.push(info.code);
    }
    switch (info.imm) {
      case 'none':
        if (mnemonic === 'end') labels.pop();
        break;
      case 'local': {
        const name = ref(tokens[++i], 'local');
        const index = names.get(name);
        if (index === undefined) throw new Error(`assemble ${fn.name}: unknown local ${name}`);
        unsignedLeb(index, out);
        break;
      }
      case 'block': {
        const next = tokens[i + 1];
        if (next?.startsWith('$')) {
          labels.push(next);
          i++;
        } else {
          labels.push('');
        }
        out.push(0x40);
        break;
      }
      case 'label': {
        const name = ref(tokens[++i], 'label');
        const at = labels.lastIndexOf(name);
        if (at < 0) throw new Error(`assemble ${fn.name}: unknown label ${name}`);
        unsignedLeb(labels.length - 1 - at, out);
        break;
      }
      case 'i32':
        signedLeb(parseNumber(ref(tokens[++i], 'i32'), 'i32'), out);
        break;
      case 'f32': {
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setFloat32(0, parseNumber(ref(tokens[++i], 'f32'), 'f32'), true);
        out.push(...bytes);
        break;
      }
      case 'f64': {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setFloat64(0, parseNumber(ref(tokens[++i], 'f64'), 'f64'), true);
        out.push(...bytes);
        break;
      }
      case 'mem': {
        let offset = 0;
        let align = info.align ?? 0;
        while (tokens[i + 1]?.startsWith('offset=') || tokens[i + 1]?.startsWith('align=')) {
          const [key, value] = tokens[++i]!.split('=') as [string, string];
          if (key === 'offset') offset = parseNumber(value, 'offset');
          else align = Math.log2(parseNumber(value, 'align'));
        }
        unsignedLeb(align, out);
        unsignedLeb(offset, out);
        break;
      }
      case 'lane':
        out.push(parseNumber(ref(tokens[++i], 'lane'), 'lane'));
        break;
      case 'shuffle':
        for (let k = 0; k < 16; k++) out.push(parseNumber(ref(tokens[++i], 'shuffle lane'), 'shuffle lane'));
        break;
    }
  }
  if (labels.length !== 0) throw new Error(`assemble ${fn.name}: ${labels.length} unclosed block(s)`);
  out.push(0x0b);
  return out;
}

/** The binary module: memory imported as `env.memory`, every function exported by its name. */
export function assembleModule(functions: readonly WasmFunctionSource[]): Uint8Array {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const section = (id: number, content: number[]) => {
    out.push(id);
    withLength(content, out);
  };
  // Types: one per function.
  const types: number[] = [];
  unsignedLeb(functions.length, types);
  for (const fn of functions) {
    types.push(0x60);
    unsignedLeb(fn.params.length, types);
    for (const [, t] of fn.params) types.push(VALTYPE[t]);
    const results = fn.results ?? [];
    unsignedLeb(results.length, types);
    for (const t of results) types.push(VALTYPE[t]);
  }
  section(1, types);
  // Imports: env.memory, at least one page, no maximum.
  const imports: number[] = [1];
  withLength(bytesOf('env'), imports);
  withLength(bytesOf('memory'), imports);
  imports.push(0x02, 0x00, 0x01);
  section(2, imports);
  const funcs: number[] = [];
  unsignedLeb(functions.length, funcs);
  functions.forEach((_, i) => unsignedLeb(i, funcs));
  section(3, funcs);
  const exports: number[] = [];
  unsignedLeb(functions.length, exports);
  functions.forEach((fn, i) => {
    withLength(bytesOf(fn.name), exports);
    exports.push(0x00);
    unsignedLeb(i, exports);
  });
  section(7, exports);
  const code: number[] = [];
  unsignedLeb(functions.length, code);
  for (const fn of functions) withLength(encodeBody(fn), code);
  section(10, code);
  return new Uint8Array(out);
}
