import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { SftpSink, type SftpSinkOptions } from '../../lib/adapters/sftp/sftp-destination';
import { destinationContract, observedFileDestination, type DestinationFixture } from '../../test/destinations/destination.contract';
import { startSshd, type Sshd } from './sshd';

async function filesUnder(root: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(root, p), await readFile(p));
    }
  };
  await walk(root);
  return out;
}

const options = (sshd: Sshd, over: Partial<SftpSinkOptions> = {}): SftpSinkOptions => ({
  host: '127.0.0.1',
  port: sshd.port,
  username: sshd.username,
  privateKey: sshd.privateKey,
  hostKeySha256: sshd.hostKeySha256,
  root: '/inbox',
  connectTimeoutMs: 5000,
  idleTimeoutMs: 5000,
  deadlineMs: 60_000,
  ...over,
});

destinationContract('SFTP (OpenSSH sshd on loopback, chrooted internal-sftp)', async () => {
  const sshd = await startSshd();
  const log: string[] = [];
  return {
    takes: 'files',
    destination: async (name, { failOnUnit }) => observedFileDestination(name, new SftpSink(options(sshd)), log, failOnUnit),
    holds: () => filesUnder(sshd.inbox),
    arrivals: () => log,
    close: () => sshd.stop(),
  } satisfies DestinationFixture;
});

describe('SftpSink against OpenSSH', () => {
  let sshd: Sshd;
  beforeAll(async () => (sshd = await startSshd()));
  afterAll(() => sshd.stop());

  it('refuses a server whose host key is not the pinned one, naming both fingerprints', async () => {
    const pinned = 'SHA256:' + 'A'.repeat(43);
    const sink = new SftpSink(options(sshd, { hostKeySha256: pinned }));
    await expect(sink.size('x')).rejects.toThrow(new RegExp(`its host key is ${sshd.hostKeySha256.replace(/[+/]/g, '\\$&')}, the destination pins ${pinned}`));
    await sink.close();
  });

  it('leaves neither a final nor a temporary file when the upload breaks, and replaces a file whole', async () => {
    const sink = new SftpSink(options(sshd));
    const broken = async () =>
      new Readable({
        read() {
          this.push(Buffer.alloc(1024, 1));
          this.destroy(new Error('source died'));
        },
      });
    await expect(sink.put('d/a.bin', broken, 4096)).rejects.toThrow('source died');
    expect(await readdir(join(sshd.inbox, 'd'))).toEqual([]);
    await sink.put('d/a.bin', async () => Readable.from([Buffer.from('old')]), 3);
    await sink.put('d/a.bin', async () => Readable.from([Buffer.from('new!')]), 4);
    expect(await readFile(join(sshd.inbox, 'd', 'a.bin'), 'utf8')).toBe('new!');
    expect(await sink.size('d/a.bin')).toBe(4);
    expect(await sink.size('d/none')).toBeUndefined();
    await sink.close();
  });

  it('stops at its overall deadline, naming it', async () => {
    const sink = new SftpSink(options(sshd, { deadlineMs: 1 }));
    await expect(sink.size('x')).rejects.toThrow(/delivery took longer than its deadline/);
    await sink.close();
  });

  it('gives up within the connect timeout when nothing answers the handshake', async () => {
    const { createServer } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const sink = new SftpSink(options(sshd, { port: (silent.address() as { port: number }).port, connectTimeoutMs: 300 }));
    await expect(sink.size('x')).rejects.toThrow(/Timed out while waiting for handshake/);
    await sink.close();
    sockets.forEach((socket) => socket.destroy());
    silent.close();
  });
});
