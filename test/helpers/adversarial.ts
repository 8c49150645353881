/**
 * Rows CSV writers get wrong, shared by the tests that read CSV back: quotes, delimiters, CR/LF,
 * empty string vs NULL, the literal null texts, Unicode, a long value, exact decimals, timestamps
 * across DST, booleans. Columns: id, txt, dec, flag, ts, day.
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
  (11, repeat('long,"value"', 5000), 6, false, TIMESTAMPTZ '2024-01-15 06:00:00+00', DATE '2024-01-15')`;

export const ADVERSARIAL_COLUMNS = 't(id, txt, dec, flag, ts, day)';
