import { csvRecordEncoder, looksLikeFormula } from '../../../lib/core/csv/csv-encoder';
import { csvSchema } from '../../../lib/core/feed/feed-schema';

/** Spreadsheet formula injection (issue 14, item 9): exact by default, neutralised on request. */
describe('CSV values a spreadsheet would run as formulas', () => {
  const HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", '-2+3', '@SUM(A1)', '\tx', '\rx', '＝1+1', '-', '+'];
  const row = (values: readonly string[]) => values;

  it('are written exactly by default', () => {
    const dialect = csvSchema.parse({});
    expect(dialect.formulas).toBeUndefined();
    const encoder = csvRecordEncoder(dialect, ['v']);
    expect(HOSTILE.map((v) => encoder.field(v))).toEqual([
      '"=HYPERLINK(""http://x"",""y"")"',
      "+1+cmd|' /C calc'!A0",
      '-2+3',
      '@SUM(A1)',
      '\tx',
      '"\rx"',
      '＝1+1',
      '-',
      '+',
    ]);
  });

  it("are quoted with a ' in front under formulas: neutralize, in both quoting modes", () => {
    for (const quoting of ['needed', 'all'] as const) {
      const encoder = csvRecordEncoder(csvSchema.parse({ formulas: 'neutralize', quoting }), ['v']);
      expect(HOSTILE.map((v) => encoder.field(v))).toEqual([
        `"'=HYPERLINK(""http://x"",""y"")"`,
        `"'+1+cmd|' /C calc'!A0"`,
        `"'-2+3"`,
        `"'@SUM(A1)"`,
        `"'\tx"`,
        `"'\rx"`,
        `"'＝1+1"`,
        `"'-"`,
        `"'+"`,
      ]);
    }
  });

  it('leaves numbers, other text and NULL alone, and doubles a quote that is the prefix', () => {
    const encoder = csvRecordEncoder(csvSchema.parse({ formulas: 'neutralize' }), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(encoder.encode([row(['-5', '+1.5', '-1e+300', 'a=b', ' =x', "'=x", '-0043-03-15T00:00:00Z'])], 0, 1)).toBe(
      `-5,+1.5,-1e+300,a=b, =x,'=x,"'-0043-03-15T00:00:00Z"\n`,
    );
    expect(csvRecordEncoder(csvSchema.parse({ formulas: 'neutralize' }), ['v']).field(null)).toBe('');
    const singleQuote = csvRecordEncoder(csvSchema.parse({ formulas: 'neutralize', quote: "'" }), ['v']);
    expect(singleQuote.field('=1')).toBe(`'''=1'`);
  });

  it('tells formulas from numbers', () => {
    expect(['=1', '+a', '-a', '@a', '\t', '\r1', '－1', '-inf', '--1'].every(looksLikeFormula)).toBe(true);
    expect(['1', '-1', '+1', '-1.5', '-.5', '-1e10', '1E-5', '', 'a', ' -1', "'="].some(looksLikeFormula)).toBe(false);
  });
});
