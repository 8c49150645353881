import { DropkitError } from '../core/errors';

/** A project the construct cannot deploy as asked (too big for CloudFormation, a bad prop). */
export class DeployConfigError extends DropkitError {
  constructor(message: string) {
    super(message);
    this.name = 'DeployConfigError';
  }
}
