import type { LinkSigner } from '../../lib/core/ports/link-signer';

export interface LinkSignerUnderContract {
  readonly signer: LinkSigner;
  /** Stores an object the signer can link to. */
  put(key: string, body: Buffer): Promise<void>;
  /** Fetches a link the way a partner would. */
  download(url: string): Promise<Buffer>;
  cleanup(): Promise<void>;
}

const SEVEN_DAYS = 7 * 86400;

/** The LinkSigner contract: a link downloads exactly the object, and says truly when it dies. */
export function linkSignerContract(name: string, open: () => Promise<LinkSignerUnderContract>) {
  describe(`${name} (LinkSigner contract)`, () => {
    let under: LinkSignerUnderContract;
    beforeEach(async () => {
      under = await open();
    });
    afterEach(async () => under.cleanup());

    it('mints a link that downloads exactly the object', async () => {
      const body = Buffer.from('id,name\n1,"a ""b"""\n', 'utf8');
      await under.put('daily/slot=20240115T060000Z/run=r1/part-00000.csv', body);
      const link = await under.signer.sign('daily/slot=20240115T060000Z/run=r1/part-00000.csv', 3600);
      expect(new URL(link.url).href).toBe(link.url);
      expect((await under.download(link.url)).equals(body)).toBe(true);
    });

    it('gives different objects different links', async () => {
      await under.put('a/x.csv', Buffer.from('a'));
      await under.put('a/y.csv', Buffer.from('b'));
      const [x, y] = [await under.signer.sign('a/x.csv', 60), await under.signer.sign('a/y.csv', 60)];
      expect(x.url).not.toBe(y.url);
    });

    it('says when the link dies: never later than asked, never past seven days (or null where it never does)', async () => {
      await under.put('a/z.csv', Buffer.from('z'));
      const before = Date.now();
      const short = await under.signer.sign('a/z.csv', 600);
      const long = await under.signer.sign('a/z.csv', 30 * 86400);
      for (const [link, asked] of [
        [short, 600],
        [long, SEVEN_DAYS],
      ] as const) {
        if (link.expiresAt === null) continue;
        const dies = Date.parse(link.expiresAt);
        expect(dies).toBeGreaterThan(before);
        expect(dies).toBeLessThanOrEqual(Date.now() + asked * 1000 + 1000);
      }
    });
  });
}
