import { join } from 'node:path';

/** The virtual environment `scripts/aws-venv.sh` fills from requirements-aws.txt. */
export const VENV = join(__dirname, '..', '..', '.venv-aws');

/** A tool of the virtual environment, e.g. `venvBin('cfn-lint')`. */
export function venvBin(name: string): string {
  return join(VENV, 'bin', name);
}
