import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CHECKOV_SKIPS } from '../lib/cdk/checkov-skips';
import { resolveCfn } from '../test/cdk/state-machine-definition';
import { Synthesized, synthBig, synthExample } from './helpers/synth';
import { venvBin } from './helpers/venv';

// asl-validator ships no types: the one call used here, typed.
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };

function tool(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(venvBin(name), args, { maxBuffer: 256 * 1024 * 1024, timeout: 300_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

interface CfnLintFinding {
  Level: 'Error' | 'Warning' | 'Informational';
  Rule: { Id: string };
  Message: string;
  Filename: string;
  Location: { Start: { LineNumber: number } };
}

/** `cfn-lint` over every template written; its findings. */
async function cfnLint(out: Synthesized): Promise<CfnLintFinding[]> {
  const r = await tool('cfn-lint', ['--format', 'json', '--', ...out.templates]);
  if (r.stderr.trim()) throw new Error(`cfn-lint failed: ${r.stderr}`);
  return JSON.parse(r.stdout || '[]') as CfnLintFinding[];
}

interface CheckovReport {
  summary: { passed: number; failed: number; skipped: number; resource_count: number };
  results: {
    failed_checks: { check_id: string; resource: string; file_path: string }[];
    skipped_checks: { check_id: string; check_result: { suppress_comment?: string } }[];
  };
}

/** checkov's CloudFormation checks over a cdk.out folder. */
async function checkov(out: Synthesized): Promise<CheckovReport> {
  const r = await tool('checkov', ['-d', out.outdir, '--framework', 'cloudformation', '-o', 'json', '--skip-download']);
  const parsed = JSON.parse(r.stdout) as CheckovReport | CheckovReport[];
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  return {
    summary: reports.reduce(
      (a, b) => ({
        passed: a.passed + b.summary.passed,
        failed: a.failed + b.summary.failed,
        skipped: a.skipped + b.summary.skipped,
        resource_count: a.resource_count + b.summary.resource_count,
      }),
      { passed: 0, failed: 0, skipped: 0, resource_count: 0 },
    ),
    results: {
      failed_checks: reports.flatMap((x) => x.results.failed_checks ?? []),
      skipped_checks: reports.flatMap((x) => x.results.skipped_checks ?? []),
    },
  };
}

describe('the synthesized templates under the linters', () => {
  const outputs: Record<string, Synthesized> = {};
  beforeAll(() => {
    outputs.example = synthExample();
    outputs['200 feeds'] = synthBig();
    expect(outputs['200 feeds']!.templates.filter((t) => t.endsWith('.nested.template.json'))).toHaveLength(2);
  });

  it.each(['example', '200 feeds'])('cfn-lint finds no error in the %s templates, nested stacks included', async (name) => {
    const findings = await cfnLint(outputs[name]!);
    const errors = findings.filter((f) => f.Level === 'Error').map((f) => `${f.Rule.Id} ${f.Filename}:${f.Location.Start.LineNumber} ${f.Message}`);
    expect(errors).toEqual([]);
    // Warnings are allowed; W3005 (a DependsOn CDK adds beside a GetAtt) is CDK's own.
    expect([...new Set(findings.map((f) => f.Rule.Id))].filter((id) => id !== 'W3005')).toEqual([]);
  });

  it.each(['example', '200 feeds'])('checkov passes the %s cdk.out, every deliberate finding skipped in the template with its reason', async (name) => {
    const report = await checkov(outputs[name]!);
    expect(report.results.failed_checks.map((f) => `${f.check_id} ${f.resource}`)).toEqual([]);
    expect(report.summary.passed).toBeGreaterThan(100);
    const reasons = new Map(CHECKOV_SKIPS.map((s) => [s.id, s.reason]));
    expect(report.results.skipped_checks.length).toBeGreaterThan(0);
    for (const s of report.results.skipped_checks)
      expect({ id: s.check_id, reason: s.check_result.suppress_comment }).toEqual({ id: s.check_id, reason: reasons.get(s.check_id) });
  });

  it('the state machine definition is valid Amazon States Language (asl-validator)', () => {
    const template = JSON.parse(readFileSync(outputs.example!.templates[0]!, 'utf8'));
    const machines = Object.values(template.Resources as Record<string, { Type: string; Properties: { DefinitionString: unknown } }>).filter(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(machines).toHaveLength(1);
    const definition = JSON.parse(resolveCfn(machines[0]!.Properties.DefinitionString));
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid ? '' : errorsText('\n')).toBe('');
    expect(Object.keys(definition.States).length).toBeGreaterThan(3);
  });
});
