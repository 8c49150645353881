/** A column as a manifest records it (`schema.columns`). */
export interface SchemaColumn {
  readonly name: string;
  readonly type: string;
  readonly nullable?: boolean;
}

/** How the columns of a drop differ from the previous drop's, by name. */
export interface SchemaChange {
  readonly added: readonly { readonly name: string; readonly type: string }[];
  readonly removed: readonly { readonly name: string; readonly type: string }[];
  readonly retyped: readonly { readonly name: string; readonly from: string; readonly to: string }[];
  /** Same columns and types in a different order (loaders reading by position break on it). */
  readonly reordered: boolean;
}

/**
 * Compares two column lists by name: columns added, removed, whose type changed, and whether the
 * common columns moved. Types compare as written by the engine, case-insensitively. Nullability
 * is not a change a loader breaks on, so it is ignored. Returns null when nothing differs.
 */
export function schemaChange(previous: readonly SchemaColumn[], current: readonly SchemaColumn[]): SchemaChange | null {
  const before = new Map(previous.map((c) => [c.name, c.type]));
  const after = new Map(current.map((c) => [c.name, c.type]));
  const added = current.filter((c) => !before.has(c.name)).map((c) => ({ name: c.name, type: c.type }));
  const removed = previous.filter((c) => !after.has(c.name)).map((c) => ({ name: c.name, type: c.type }));
  const retyped = current
    .filter((c) => before.has(c.name) && before.get(c.name)!.toUpperCase() !== c.type.toUpperCase())
    .map((c) => ({ name: c.name, from: before.get(c.name)!, to: c.type }));
  const commonBefore = previous.filter((c) => after.has(c.name)).map((c) => c.name);
  const commonAfter = current.filter((c) => before.has(c.name)).map((c) => c.name);
  const reordered = commonBefore.join('\u0000') !== commonAfter.join('\u0000');
  if (added.length === 0 && removed.length === 0 && retyped.length === 0 && !reordered) return null;
  return { added, removed, retyped, reordered };
}

/** One line per difference, e.g. `amount: DECIMAL(10,2) → DOUBLE`. */
export function describeSchemaChange(change: SchemaChange): string[] {
  return [
    ...change.added.map((c) => `added ${c.name} (${c.type})`),
    ...change.removed.map((c) => `removed ${c.name} (${c.type})`),
    ...change.retyped.map((c) => `${c.name}: ${c.from} → ${c.to}`),
    ...(change.reordered ? ['columns are in a different order'] : []),
  ];
}
