import { decideCommand } from './approve';

/** `dropkit reject FEED --slot … --by … --reason …`: an approver turns a held drop down; it is rolled back like a failed check. */
export async function rejectCommand(args: string[]): Promise<number> {
  return decideCommand('reject', args);
}
