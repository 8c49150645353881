import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { contentDisposition, S3LinkSigner, SigningCredentialsExpiredError } from '../../lib/adapters/s3/s3-link-signer';
import { S3Store } from '../../lib/adapters/s3/s3-store';
import { fixedClock } from '../../lib/core/ports/clock';
import { RunningS3rver, startS3rver } from '../helpers/s3rver';

const NOW = '2024-03-01T12:00:00.000Z';

function offlineSigner(credentials: S3ClientConfig['credentials']) {
  return new S3LinkSigner({
    bucket: 'drops',
    prefix: 'root/',
    clientConfig: { region: 'eu-west-1', credentials },
    clock: fixedClock(NOW),
  });
}

describe('S3LinkSigner (offline signing)', () => {
  const staticKeys = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

  it('signs a GET for the key under the store prefix that names the download file', async () => {
    const link = await offlineSigner(staticKeys).sign('feed/slot=1/run=r/part-00000.csv', 3600);
    const url = new URL(link.url);
    expect(url.hostname).toBe('drops.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/root/feed/slot%3D1/run%3Dr/part-00000.csv');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20240301T120000Z');
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="part-00000.csv"; filename*=UTF-8''part-00000.csv`);
    expect(link.expiresAt).toBe('2024-03-01T13:00:00.000Z');
  });

  it('signs for the same bucket and prefix as the store URL', async () => {
    const signer = S3LinkSigner.fromUrl('s3://my-drops/team', { clientConfig: { region: 'eu-west-1', credentials: staticKeys }, clock: fixedClock(NOW) });
    const url = new URL((await signer.sign('a.csv', 60)).url);
    expect(`${url.hostname}${url.pathname}`).toBe('my-drops.s3.eu-west-1.amazonaws.com/team/a.csv');
  });

  it('puts no checksum parameters in the URL', async () => {
    const link = await offlineSigner(staticKeys).sign('a/b.csv', 60);
    expect([...new URL(link.url).searchParams.keys()].filter((k) => /checksum/i.test(k))).toEqual([]);
  });

  it('caps the lifetime at 7 days', async () => {
    const link = await offlineSigner(staticKeys).sign('a/b.csv', 30 * 24 * 3600);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('604800');
    expect(link.expiresAt).toBe('2024-03-08T12:00:00.000Z');
  });

  it('caps the lifetime at the expiry of the signing credentials, and says so in expiresAt', async () => {
    const session = { ...staticKeys, sessionToken: 'token', expiration: new Date('2024-03-01T12:45:00.000Z') };
    const link = await offlineSigner(async () => session).sign('a/b.csv', 24 * 3600);
    expect(new URL(link.url).searchParams.get('X-Amz-Expires')).toBe('2700');
    expect(link.expiresAt).toBe('2024-03-01T12:45:00.000Z');
  });

  it('refuses to sign with credentials that have already expired, naming the fix', async () => {
    const session = { ...staticKeys, sessionToken: 'token', expiration: new Date('2024-03-01T11:00:00.000Z') };
    const signing = offlineSigner(async () => session).sign('a/b.csv', 3600);
    await expect(signing).rejects.toBeInstanceOf(SigningCredentialsExpiredError);
    await expect(signing).rejects.toThrow('expired at 2024-03-01T11:00:00.000Z');
  });

  it('rejects keys the store would reject', async () => {
    await expect(offlineSigner(staticKeys).sign('../x', 60)).rejects.toThrow('"../x"');
  });

  it('names non-ASCII files in both the fallback and the RFC 5987 form', () => {
    expect(contentDisposition('d/Grüße "1".csv')).toBe(`attachment; filename="Gr__e _1_.csv"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%221%22.csv`);
  });
});

describe('S3LinkSigner and S3Store over s3rver (wire level)', () => {
  let server: RunningS3rver;
  beforeAll(async () => {
    server = await startS3rver(['links']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('mints a link that downloads the stored bytes over HTTP with the file name', async () => {
    const store = new S3Store({ bucket: 'links', prefix: 'p', client: server.client() });
    const body = Buffer.from('id,name\n1,"ä, b"\n');
    await store.put('feed/slot=1/run=r/part-00000.csv', body, { contentType: 'text/csv' });
    const signer = new S3LinkSigner({ bucket: 'links', prefix: 'p', clientConfig: server.clientConfig() });
    const link = await signer.sign('feed/slot=1/run=r/part-00000.csv', 600);
    const res = await fetch(link.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
    expect(res.headers.get('content-disposition')).toBe(contentDisposition('part-00000.csv'));
  });

  it('mints links that the server refuses once expired', async () => {
    const store = new S3Store({ bucket: 'links', prefix: 'p', client: server.client() });
    await store.put('old.csv', 'x');
    // Signed an hour ago for one minute: expired now.
    const signer = new S3LinkSigner({ bucket: 'links', prefix: 'p', clientConfig: server.clientConfig(), clock: fixedClock(new Date(Date.now() - 3600_000)) });
    const link = await signer.sign('old.csv', 60);
    expect(Date.parse(link.expiresAt!)).toBeLessThan(Date.now());
    const res = await fetch(link.url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Request has expired');
  });

  it('pages through a listing longer than a page, in order, one request per page', async () => {
    const client = server.client();
    let listRequests = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command') listRequests++;
        return next(args);
      },
      { step: 'initialize', name: 'countListRequests' },
    );
    const store = new S3Store({ bucket: 'links', prefix: 'paged', client, listPageSize: 3 });
    const keys = Array.from({ length: 8 }, (_, i) => `slot=${String(i).padStart(2, '0')}/manifest.json`);
    for (const k of [...keys].reverse()) await store.put(k, k);
    const listed: string[] = [];
    for await (const o of store.list('slot=')) listed.push(o.key);
    expect(listed).toEqual(keys);
    expect(listRequests).toBe(3);
  });
});
