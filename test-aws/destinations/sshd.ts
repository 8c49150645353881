import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

/** Where Debian's openssh-server puts the daemon; `.ci/run` installs it (apt-get install -y openssh-server). */
export const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((p) => existsSync(p));

export interface Sshd {
  readonly port: number;
  readonly username: string;
  readonly privateKey: string;
  readonly hostKeySha256: string;
  /** On this machine: the chroot's writable folder, `/inbox` as the SFTP user sees it. */
  readonly inbox: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real OpenSSH server on a loopback port with its own config file: its own host key, one
 * authorized key, internal-sftp only, the user chrooted into a root-owned folder with a writable
 * `inbox`. Needs root (sshd's chroot and privilege separation); the folder is made under
 * DROPKIT_SSHD_DIR (default /run).
 */
export async function startSshd(): Promise<Sshd> {
  if (!SSHD) throw new Error('sshd not found: apt-get install -y openssh-server');
  // sshd chroots only into a path whose every folder is root-owned and not writable by others: not /tmp.
  const parent = process.env.DROPKIT_SSHD_DIR ?? '/run';
  const dir = await mkdtemp(join(parent, 'dropkit-sshd-'));
  await chmod(dir, 0o755);
  const keygen = (file: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file]);
  keygen(join(dir, 'host_key'));
  keygen(join(dir, 'client_key'));
  const chroot = join(dir, 'chroot');
  await mkdir(join(chroot, 'inbox'), { recursive: true });
  await chmod(chroot, 0o755);
  await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'client_key.pub')));
  await chmod(join(dir, 'authorized_keys'), 0o600);
  await mkdir('/run/sshd', { recursive: true });
  const port = await freePort();
  const username = userInfo().username;
  await writeFile(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      `Match User ${username}`,
      `  ChrootDirectory ${chroot}`,
      '  ForceCommand internal-sftp',
      '  AllowTcpForwarding no',
      '',
    ].join('\n'),
  );
  const fingerprint = execFileSync('ssh-keygen', ['-lf', join(dir, 'host_key.pub')])
    .toString()
    .split(' ')[1];
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d) => (log += d));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`sshd did not start: ${log}`)), 10_000);
    child.once('exit', (code) => reject(new Error(`sshd exited (${code}): ${log}`)));
    child.stderr!.on('data', () => {
      if (/Server listening/.test(log)) {
        clearTimeout(t);
        resolve();
      }
    });
  });
  return {
    port,
    username,
    privateKey: await readFile(join(dir, 'client_key'), 'utf8'),
    hostKeySha256: fingerprint,
    inbox: join(chroot, 'inbox'),
    stop: async () => {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
