import { readFileSync } from 'node:fs';
import { UsageError } from '../../core/errors';
import { linksFromEvent, PULL_DEFAULTS, pullDrop, PulledFile, PullReport } from '../../pull/pull-drop';
import { parseCommandArgs, parseDurationArg } from '../args';
import { EXIT } from '../exit-codes';
import { PULL_USAGE } from '../help';

export { PULL_USAGE };

/**
 * `dropkit pull`: the partner side. Downloads a drop's files into DEST, verifies each against the
 * manifest, and writes DEST/manifest.json last, only when every file verified.
 */
export async function pullCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('pull', args, {
    dest: { type: 'string' },
    links: { type: 'string' },
    json: { type: 'boolean', default: false },
    'connect-timeout': { type: 'string' },
    'idle-timeout': { type: 'string' },
    deadline: { type: 'string' },
  });
  if (positionals.length === 0) throw new UsageError(`dropkit pull: name the manifest.json to pull (a path or an http(s) URL); usage: ${PULL_USAGE}`);
  if (positionals.length > 1) throw new UsageError(`dropkit pull takes one manifest; got ${positionals.join(', ')}`);
  if (!values.dest) throw new UsageError(`dropkit pull: give --dest DIR, the folder to download into; usage: ${PULL_USAGE}`);
  const links = values.links ? readLinks(values.links) : undefined;
  const connectTimeoutMs = values['connect-timeout'] ? parseDurationArg('--connect-timeout', values['connect-timeout']) : PULL_DEFAULTS.connectTimeoutMs;
  const idleTimeoutMs = values['idle-timeout'] ? parseDurationArg('--idle-timeout', values['idle-timeout']) : PULL_DEFAULTS.idleTimeoutMs;
  const deadlineMs = values.deadline ? parseDurationArg('--deadline', values.deadline) : PULL_DEFAULTS.deadlineMs;

  const json: boolean = values.json;
  const report = await pullDrop({
    manifest: positionals[0],
    dest: values.dest,
    links,
    connectTimeoutMs,
    idleTimeoutMs,
    deadlineMs,
    // Human mode shows progress as files finish; --json keeps stdout to the one object.
    onFile: json ? undefined : (f) => process.stdout.write(describeFile(f) + '\n'),
  });

  if (json) {
    process.stdout.write(JSON.stringify(toJson(report)) + '\n');
  } else {
    process.stdout.write(summary(report) + '\n');
    for (const f of report.files) {
      if (f.status === 'failed') process.stderr.write(`dropkit pull: FAILED ${f.path}: ${f.error}\n`);
    }
  }
  return report.status === 'ok' ? EXIT.ok : EXIT.failure;
}

function readLinks(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`--links ${file}: ${(error as Error).message}`);
  }
  try {
    return linksFromEvent(JSON.parse(text));
  } catch (error) {
    throw new UsageError(`--links ${file} is not a drop notification (DropEvent JSON): ${(error as Error).message}`);
  }
}

function toJson(report: PullReport) {
  return {
    status: report.status,
    manifest: report.manifest,
    dest: report.dest,
    files: report.files.map((f) => ({
      path: f.path,
      status: f.status,
      bytes: f.bytes,
      sha256: f.sha256,
      ...(f.status === 'failed' ? { expectedBytes: f.expectedBytes, expectedSha256: f.expectedSha256, error: f.error } : {}),
    })),
  };
}

function describeFile(f: PulledFile): string {
  if (f.status === 'ok')
    return `✓ ${f.path}: ok, ${count(f.expectedBytes, 'byte')}, ${count(f.rows, 'row')}${f.attempts > 1 ? ` (${f.attempts} attempts)` : ''}`;
  if (f.status === 'skipped') return `= ${f.path}: skipped, already present and verified`;
  return `✗ ${f.path}: FAILED: ${f.error}`;
}

function summary(report: PullReport): string {
  const { files, bytes, rows } = report.totals;
  const drop = `${report.feed} run ${report.runId}: ${count(files, 'file')}, ${count(bytes, 'byte')}, ${count(rows, 'row')}`;
  const failed = report.files.filter((f) => f.status === 'failed').length;
  if (failed === 0) {
    const skipped = report.files.filter((f) => f.status === 'skipped').length;
    return `${drop}; ${files - skipped} downloaded, ${skipped} already present; all verified into ${report.dest} (manifest ${report.manifestPath})`;
  }
  return `${drop}; ${failed} FAILED; manifest.json not written, ${report.dest} is incomplete (run pull again to resume)`;
}

function count(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
