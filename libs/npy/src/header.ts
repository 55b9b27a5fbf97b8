import { NpyError } from './npy-error.ts';

/** The three keys of an NPY header, as NumPy's `read_array_header` requires them. */
export interface NpyHeader {
  readonly descr: string;
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
}

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

/**
 * Parses the header of an NPY file: a Python dict literal such as
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
 *
 * A small recursive-descent parser over exactly the literals NumPy writes (strings, integers,
 * True/False/None, tuples, lists, dicts); never `eval`. Requires exactly the keys descr,
 * fortran_order and shape, as NumPy does. Structured dtypes (a list as descr) are refused as
 * `unsupported_dtype` by the caller's dtype check.
 */
export function parseHeader(text: string, source: string): NpyHeader {
  const parser = new LiteralParser(text, source);
  const value = parser.parseDocument();
  if (!(value instanceof Map)) throw bad(source, 'the header is not a dictionary');
  const keys = [...value.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw bad(source, `the header has keys {${keys.join(', ')}}, expected {descr, fortran_order, shape}`);
  }
  const descr = value.get('descr');
  const fortran = value.get('fortran_order');
  const shape = value.get('shape');
  if (Array.isArray(descr)) {
    throw new NpyError('unsupported_dtype', 'structured dtypes (a list as descr) are not supported', { source });
  }
  if (typeof descr !== 'string') throw bad(source, "'descr' is not a string");
  if (typeof fortran !== 'boolean') throw bad(source, "'fortran_order' is not True or False");
  if (shape === null || typeof shape !== 'object' || !('tuple' in shape)) throw bad(source, "'shape' is not a tuple");
  const dims = shape.tuple.map((d) => {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) throw bad(source, `'shape' has a dimension that is not a non-negative integer: ${String(d)}`);
    return d;
  });
  return { descr, fortranOrder: fortran, shape: dims };
}

/** Formats the header dict the way NumPy does (`{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`). */
export function formatHeader(header: NpyHeader): string {
  const dims = header.shape.length === 1 ? `(${header.shape[0]},)` : `(${header.shape.join(', ')})`;
  return `{'descr': '${header.descr}', 'fortran_order': ${header.fortranOrder ? 'True' : 'False'}, 'shape': ${dims}, }`;
}

function bad(source: string, message: string): NpyError {
  return new NpyError('bad_header', message, { source });
}

class LiteralParser {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  parseDocument(): PyValue {
    const value = this.parseValue(0);
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail(`unexpected '${this.text[this.pos]}'`);
    return value;
  }

  private parseValue(depth: number): PyValue {
    if (depth > 16) this.fail('nesting too deep');
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end');
    if (c === '{') return this.parseDict(depth);
    if (c === '(') return { tuple: this.parseSequence('(', ')', depth) };
    if (c === '[') return this.parseSequence('[', ']', depth);
    if (c === "'" || c === '"') return this.parseString();
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseInteger();
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'None' ? null : word === 'True';
    }
    return this.fail(`unexpected '${c}'`);
  }

  private parseDict(depth: number): Map<string, PyValue> {
    const map = new Map<string, PyValue>();
    this.pos++; // '{'
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return map;
      }
      const key = this.parseValue(depth + 1);
      if (typeof key !== 'string') this.fail('a dictionary key is not a string');
      if (map.has(key)) this.fail(`duplicate key '${key}'`);
      this.skipSpace();
      this.expect(':');
      map.set(key, this.parseValue(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private parseSequence(open: string, close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.pos++; // open
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue(depth + 1));
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}' after an item of '${open}'`);
    }
  }

  private parseString(): string {
    const quote = this.text[this.pos]!;
    const end = this.text.indexOf(quote, this.pos + 1);
    if (end < 0) this.fail('unterminated string');
    const body = this.text.slice(this.pos + 1, end);
    if (body.includes('\\')) this.fail('escape sequences in strings are not supported');
    this.pos = end + 1;
    return body;
  }

  private parseInteger(): number {
    // Python 2 wrote long integers with an `L` suffix: accept it, as NumPy does.
    const match = /^-?\d+L?/.exec(this.text.slice(this.pos));
    if (match === null) this.fail('malformed integer');
    this.pos += match[0].length;
    const value = Number(match[0].replace(/L$/, ''));
    if (!Number.isSafeInteger(value)) this.fail(`integer ${match[0]} is too large`);
    return value;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private expect(c: string): void {
    if (this.text[this.pos] !== c) this.fail(`expected '${c}'`);
    this.pos++;
  }

  private fail(message: string): never {
    throw bad(this.source, `malformed header at character ${this.pos}: ${message}`);
  }
}
