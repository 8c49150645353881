/**
 * Rows CSV writers get wrong, shared by the tests that read CSV back: quotes, delimiters, CR/LF,
 * empty string vs NULL, the literal null texts, `#` (not a comment), Unicode (U+FEFF leading,
 * inside and alone, NUL, U+2028/U+2029/U+0085, emoji sequences, combining marks), a long value,
 * exact decimals, timestamps across DST, booleans. Columns: id, txt, dec, flag, ts, day; ids 1 to
 * ADVERSARIAL_COUNT in order.
 *
 * No lone surrogates: DuckDB VARCHARs are valid UTF-8, so text read from it is always well-formed
 * UTF-16; the CSV writer refuses a string that is not (its own tests cover that).
 */
export const ADVERSARIAL_ROWS = `
  (1, 'plain', 0.10::DECIMAL(38,10), true, TIMESTAMPTZ '2024-03-31 01:30:00+02', DATE '2024-02-29'),
  (2, 'say "hi"', 12345678901234567890.1234567890, false, TIMESTAMPTZ '2024-01-01 00:00:00.000001+00', DATE '1970-01-01'),
  (3, 'a,b;c' || chr(9) || 'd|e', -0.0000000001, NULL, NULL, NULL),
  (4, 'line1' || chr(10) || 'line2' || chr(13) || chr(10) || 'line3' || chr(13) || 'end', 0, true, TIMESTAMPTZ '2024-10-27 02:30:00+01', DATE '2024-10-27'),
  (5, '', 1, false, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (6, NULL, NULL, NULL, NULL, NULL),
  (7, '  padded  ', 2.5, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (8, '\\N', 3, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (9, 'NULL', 4, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (10, 'emoji 🚀 東京 é (e' || chr(769) || ') ''single''', 5, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (11, repeat('long,"value"', 5000), 6, false, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (12, '#N/A', 7, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (13, '# not a comment', 8, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (14, chr(13), 9, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (15, chr(10), 10, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (16, chr(65279) || 'leading BOM', 11, true, TIMESTAMPTZ '2024-01-15 06:00:00.123+00', DATE '2024-01-15'),
  (17, 'inside' || chr(65279) || 'BOM', 12, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (18, chr(65279), 13, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (19, 'nul' || chr(0) || 'byte', 14, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (20, 'line' || chr(8232) || 'sep' || chr(8233) || 'para' || chr(133) || 'nel', 15, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (21, '👩‍👩‍👧 🇳🇱 👍🏽 𝄞', 16, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15'),
  (22, chr(769) || 'starts combining, stacked e' || chr(769) || chr(770) || chr(803), 17, true, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15')`;

/** Rows in ADVERSARIAL_ROWS, numbered 1 to this by id. */
export const ADVERSARIAL_COUNT = 22;

export const ADVERSARIAL_COLUMNS = 't(id, txt, dec, flag, ts, day)';
