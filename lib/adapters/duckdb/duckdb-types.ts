import { quoteIdent, stringLiteral } from '../../core/sql-text';
/**
 * DuckDB type names (as DESCRIBE prints them) parsed into a tree, so values nested in lists,
 * structs and maps can be rendered and converted like top-level ones.
 */

export type DuckDbType =
  | { readonly kind: 'scalar'; readonly text: string }
  | { readonly kind: 'list'; readonly of: DuckDbType; readonly text: string }
  | { readonly kind: 'struct'; readonly fields: readonly { readonly name: string; readonly type: DuckDbType }[]; readonly text: string }
  | { readonly kind: 'map'; readonly key: DuckDbType; readonly value: DuckDbType; readonly text: string };

/**
 * Parses `INTEGER`, `DECIMAL(5,2)`, `VARCHAR[]`, `INTEGER[3]`, `STRUCT("a b" INTEGER, c INTERVAL[])`,
 * `MAP(VARCHAR, HUGEINT)`… UNION and ENUM stay scalars: they are rendered whole.
 */
export function parseDuckDbType(text: string): DuckDbType {
  const parser = new TypeParser(text);
  const type = parser.type();
  parser.end();
  return type;
}

class TypeParser {
  private pos = 0;
  constructor(private readonly src: string) {}

  type(): DuckDbType {
    const start = this.skipSpace();
    // A name is words up to a bracket or a separator: `TIMESTAMP WITH TIME ZONE`, `DOUBLE`.
    while (this.pos < this.src.length && !/[()[\],]/.test(this.src[this.pos])) this.pos++;
    const upper = this.src.slice(start, this.pos).trim().toUpperCase();
    let type: DuckDbType;
    if ((upper === 'STRUCT' || upper === 'MAP') && this.src[this.pos] === '(') {
      this.pos++;
      if (upper === 'MAP') {
        const key = this.type();
        this.expect(',');
        const value = this.type();
        this.expect(')');
        type = { kind: 'map', key, value, text: this.src.slice(start, this.pos).trim() };
      } else {
        const fields: { name: string; type: DuckDbType }[] = [];
        for (;;) {
          const field = this.fieldName();
          fields.push({ name: field, type: this.type() });
          this.skipSpace();
          if (this.src[this.pos] === ',') this.pos++;
          else break;
        }
        this.expect(')');
        type = { kind: 'struct', fields, text: this.src.slice(start, this.pos).trim() };
      }
    } else {
      if (this.src[this.pos] === '(') this.skipBalanced(); // DECIMAL(5,2), ENUM('a', 'b'), UNION(…)
      type = { kind: 'scalar', text: this.src.slice(start, this.pos).trim() };
    }
    // `[]` (list) and `[n]` (array) suffixes, possibly repeated.
    while (this.src[this.pos] === '[') {
      const close = this.src.indexOf(']', this.pos);
      if (close < 0) throw this.error('unclosed [');
      this.pos = close + 1;
      type = { kind: 'list', of: type, text: this.src.slice(start, this.pos).trim() };
    }
    this.skipSpace();
    return type;
  }

  end(): void {
    if (this.skipSpace() !== this.src.length) throw this.error('unexpected text');
  }

  private fieldName(): string {
    this.skipSpace();
    if (this.src[this.pos] === '"') {
      let name = '';
      this.pos++;
      for (;;) {
        const close = this.src.indexOf('"', this.pos);
        if (close < 0) throw this.error('unclosed field name');
        name += this.src.slice(this.pos, close);
        this.pos = close + 1;
        if (this.src[this.pos] !== '"') return name;
        name += '"'; // a doubled quote inside the name
        this.pos++;
      }
    }
    const start = this.pos;
    while (this.pos < this.src.length && !/\s/.test(this.src[this.pos])) this.pos++;
    return this.src.slice(start, this.pos);
  }

  private skipBalanced(): void {
    let depth = 0;
    for (; this.pos < this.src.length; this.pos++) {
      const c = this.src[this.pos];
      if (c === "'") {
        // A string literal (ENUM values) may hold brackets; '' is a quote inside it.
        for (this.pos++; this.pos < this.src.length; this.pos++) {
          if (this.src[this.pos] === "'" && this.src[this.pos + 1] === "'") this.pos++;
          else if (this.src[this.pos] === "'") break;
        }
      } else if (c === '(') depth++;
      else if (c === ')' && --depth === 0) {
        this.pos++;
        return;
      }
    }
    throw this.error('unbalanced (');
  }

  private expect(c: string): void {
    this.skipSpace();
    if (this.src[this.pos] !== c) throw this.error(`expected ${c}`);
    this.pos++;
  }

  private skipSpace(): number {
    while (/\s/.test(this.src[this.pos] ?? '')) this.pos++;
    return this.pos;
  }

  private error(what: string): Error {
    return new Error(`internal: cannot parse the DuckDB type ${JSON.stringify(this.src)} at ${this.pos}: ${what}`);
  }
}

/** Whether any value in the type tree satisfies `test` (on the upper-cased scalar name). */
export function someScalar(type: DuckDbType, test: (scalar: string) => boolean): boolean {
  switch (type.kind) {
    case 'scalar':
      return test(type.text.toUpperCase());
    case 'list':
      return someScalar(type.of, test);
    case 'struct':
      return type.fields.some((f) => someScalar(f.type, test));
    case 'map':
      return someScalar(type.key, test) || someScalar(type.value, test);
  }
}

/**
 * Rewrites every scalar of `expr` (of `type`) with `leaf`, down through lists, structs and maps;
 * undefined when `leaf` changes nothing (it returns undefined for every scalar in the tree).
 * `depth` names the lambda variables, so nested lambdas never shadow each other.
 */
export function mapScalars(expr: string, type: DuckDbType, leaf: (expr: string, scalar: string) => string | undefined, depth = 0): string | undefined {
  switch (type.kind) {
    case 'scalar':
      return leaf(expr, type.text.toUpperCase());
    case 'list': {
      const v = `v${depth}`;
      const inner = mapScalars(v, type.of, leaf, depth + 1);
      return inner === undefined ? undefined : `list_transform(${expr}, lambda ${v}: ${inner})`;
    }
    case 'struct': {
      const fields = type.fields.map((f) => {
        const access = `struct_extract(${expr}, ${stringLiteral(f.name)})`;
        return { name: f.name, access, mapped: mapScalars(access, f.type, leaf, depth + 1) };
      });
      if (fields.every((f) => f.mapped === undefined)) return undefined;
      // struct_pack of a NULL struct's fields would be a struct of NULLs: keep NULL.
      const packed = fields.map((f) => `${quoteIdent(f.name)} := ${f.mapped ?? f.access}`).join(', ');
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE struct_pack(${packed}) END`;
    }
    case 'map': {
      const e = `v${depth}`;
      const key = mapScalars(`${e}.key`, type.key, leaf, depth + 1);
      const value = mapScalars(`${e}.value`, type.value, leaf, depth + 1);
      if (key === undefined && value === undefined) return undefined;
      return `map_from_entries(list_transform(map_entries(${expr}), lambda ${e}: {'key': ${key ?? `${e}.key`}, 'value': ${value ?? `${e}.value`}}))`;
    }
  }
}
