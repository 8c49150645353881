import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * moto's server for the S3 destination tests: the endpoint in MOTO_ENDPOINT (the AWS tier's
 * globalSetup starts one) or, when that is unset, one started here on a loopback port.
 */
export async function motoEndpoint(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const given = process.env.MOTO_ENDPOINT;
  if (given) return { endpoint: given, stop: async () => undefined };
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const child: ChildProcess = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(`${endpoint}/moto-api/`);
      break;
    } catch {
      if (i > 100 || child.exitCode !== null) throw new Error('moto_server did not start (pip install "moto[server]" in the test virtualenv)');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    endpoint,
    stop: async () => {
      child.kill('SIGTERM');
    },
  };
}
