import { relative } from 'node:path';
import { UsageError } from '../../core/errors';
import { loadProject } from '../../project/load-project';
import { decideSlot } from '../../runner/run-slot';
import { parseCommandArgs, parseTimeArg, projectOption, storeChoice, storeOptions } from '../args';
import { localContext } from '../local-context';
import { describeOutcome, exitCodeForOutcomes, outcomeJson } from '../run-output';
import { findFeed } from './run';
import { describeHoldView, readHoldView } from '../../core/approval/hold-view';
import { slotId } from '../../core/slots';

/**
 * `dropkit approve FEED --slot … --by … --reason …`: an approver signs off a held drop; the run
 * resumes at the gate, publishes and notifies. `dropkit reject` (reject.ts) rolls it back instead.
 */
export async function approveCommand(args: string[]): Promise<number> {
  return decideCommand('approve', args);
}

export async function decideCommand(command: 'approve' | 'reject', args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(command, args, {
    ...projectOption,
    ...storeOptions,
    slot: { type: 'string' },
    partner: { type: 'string' },
    by: { type: 'string' },
    reason: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    now: { type: 'string' },
    show: { type: 'boolean', default: false },
  });
  if (positionals.length !== 1) throw new UsageError(`dropkit ${command} takes one feed; got ${positionals.length ? positionals.join(', ') : 'none'}`);
  if (!values.slot) throw new UsageError(`dropkit ${command} needs --slot: the slot whose drop is held, e.g. --slot 20240115T060000Z`);
  if (values.show) {
    if (command !== 'approve') throw new UsageError('--show is an option of dropkit approve: dropkit approve FEED --slot … --show');
    if (values.by || values.reason) throw new UsageError('--show decides nothing: drop --by and --reason to look, or drop --show to decide');
    return showHeld(values, positionals[0]);
  }
  if (!values.by) throw new UsageError(`dropkit ${command} needs --by: who decides (one of the feed's approval.approvers)`);
  if (!values.reason) throw new UsageError(`dropkit ${command} needs --reason: why, e.g. --reason "new column checked with finance"`);
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, positionals[0]);
  if (!feed.spec.approval) throw new UsageError(`feed ${feed.spec.name} asks for no approval (no approval: in its feed file); nothing is ever held`);
  const ctx = localContext(project, { out: values.out, now: values.now, console: !values.json, ...storeChoice(values) });
  const outcome = await decideSlot(
    {
      feed: feed.spec.name,
      partner: values.partner ?? null,
      slot: parseTimeArg('--slot', values.slot),
      decision: command === 'approve' ? 'approved' : 'rejected',
      by: values.by,
      reason: values.reason,
    },
    ctx.deps,
  );
  if (values.json) process.stdout.write(JSON.stringify(outcomeJson(outcome, ctx.locate)) + '\n');
  else process.stdout.write(describeOutcome(outcome, (k) => (ctx.remote ? ctx.locate(k) : relative(process.cwd(), ctx.locate(k)))) + '\n');
  // A rejection is what was asked: it exits 0 once rolled back; a timeout or a failure does not.
  if (command === 'reject' && outcome.status === 'failed' && outcome.error?.name === 'ApprovalRejectedError') return 0;
  return exitCodeForOutcomes([outcome]);
}

/** `dropkit approve FEED --slot … --show`: the held drop as approvers look at it (the link broker's GET answers the same), nothing decided. */
async function showHeld(
  values: { project: string; slot?: string; partner?: string; json?: boolean; out?: string; now?: string } & Parameters<typeof storeChoice>[0],
  feedName: string,
): Promise<number> {
  const project = loadProject(values.project);
  const feed = findFeed(project.feeds, feedName);
  if (!feed.spec.approval) throw new UsageError(`feed ${feed.spec.name} asks for no approval (no approval: in its feed file); nothing is ever held`);
  const ctx = localContext(project, { out: values.out, now: values.now, console: false, ...storeChoice(values) });
  const at = { feed: feed.spec.name, partner: values.partner ?? null, slot: slotId(parseTimeArg('--slot', values.slot!)) };
  const view = await readHoldView({ store: ctx.store, feeds: ctx.deps.feeds, prefix: ctx.deps.prefix }, at);
  if (!view)
    throw new UsageError(
      `no drop of ${at.feed}${at.partner ? ` for partner ${at.partner}` : ''} slot ${at.slot} was held for approval; \`dropkit history ${at.feed}\` shows the slot's runs`,
    );
  process.stdout.write((values.json ? JSON.stringify(view) : describeHoldView(view)) + '\n');
  return 0;
}
