import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { venvBin } from './helpers/venv';

/**
 * Starts one moto server on a free loopback port for every test file, and points every AWS SDK
 * client of the test processes at it (AWS_ENDPOINT_URL, dummy credentials). Workers inherit this
 * environment; each test file uses its own bucket, topic and queue names.
 */
export default async function globalSetup(): Promise<void> {
  const port = await freePort();
  const child = spawn(venvBin('moto_server'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  (globalThis as { __MOTO__?: typeof child }).__MOTO__ = child;
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(endpoint, child, () => stderr);
  Object.assign(process.env, {
    MOTO_ENDPOINT: endpoint,
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ReturnType<typeof spawn>, stderr: () => string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}:\n${stderr()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto_server did not answer on ${endpoint} within 30 s (run scripts/aws-venv.sh?):\n${stderr()}`);
}
