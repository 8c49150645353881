/**
 * Seeded random rows for property tests: values made of every delimiter and quote, line breaks,
 * odd code points (U+FEFF, NUL, U+2028, emoji, combining marks), and texts that look like the null
 * texts; some are NULL, some empty, a few long.
 */

type Row = (string | null)[];

/** mulberry32: small, seeded, good enough to spread cases. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pieces values are made of: plain text, every delimiter and quote, line breaks, odd code points. */
export const PIECES = [
  'a',
  'Z',
  '0',
  ' ',
  'word',
  'x y',
  ',',
  ';',
  '\t',
  '|',
  ':',
  '"',
  "'",
  '`',
  '""',
  '\r',
  '\n',
  '\r\n',
  '\n\r',
  '\uFEFF',
  '\u0000',
  '\u2028',
  '\u2029',
  '\u0085',
  '😀',
  '👩\u200d👩\u200d👧',
  '🇳🇱',
  'e\u0301',
  '\u0301',
  '東京',
  'é',
  '#',
  '=',
  '\\',
  '\\N',
];
/** Whole values, among them texts that look like the null texts. */
export const WHOLE: (string | null)[] = [null, null, null, '', '', '\\N', 'NULL', 'null', ' ', '#N/A', "'", '"', '\uFEFF', 'N', '\\'];

function randomValue(next: () => number): string | null {
  const roll = next();
  if (roll < 0.3) return WHOLE[Math.floor(next() * WHOLE.length)];
  if (roll < 0.32) return 'long '.repeat(200 + Math.floor(next() * 400)) + PIECES[Math.floor(next() * PIECES.length)];
  let v = '';
  const n = Math.floor(next() * 8);
  for (let i = 0; i < n; i++) v += PIECES[Math.floor(next() * PIECES.length)];
  return v;
}

export const RANDOM_COLUMNS = ['id', 'a,b', 'say "x"', 'NULL', '\\N', '\uFEFFbom', "it's", 'semi;pipe|tab\t', 'line\nbreak', 'plain'];

export function randomRows(seed: number, count: number): Row[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, r) => [String(r), ...Array.from({ length: RANDOM_COLUMNS.length - 1 }, () => randomValue(next))]);
}
