import type { StepName } from '../run-record';

/**
 * The run of one slot as a graph, written once. The local runner interprets it
 * (lib/runner/run-slot.ts); the Step Functions definition is compiled from it
 * (lib/cdk/pipeline-definition.ts). Neither decides a branch of its own: a branch added here
 * appears on both paths, and a scenario table (test/runner/step-graph-scenarios.test.ts) drives
 * both and compares the steps taken, the store and the notices.
 */

/** The nodes of the graph; each runs one step (or the rollback of one). */
export type NodeName =
  | 'plan'
  | 'pushRepaired'
  | 'repair'
  | 'stage'
  | 'validate'
  | 'render'
  | 'approve'
  | 'publish'
  | 'push'
  | 'notify'
  | 'failRun'
  | 'pushRecovered'
  | 'notifyRecovered';

/** How one run (one partner of a slot) ends: one spelling for the CLI, the state machine, failRun and the run record. */
export const RUN_STATUSES = ['delivered', 'already-delivered', 'busy', 'failed', 'validation-failed', 'awaiting-approval'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Error names the graph branches on (matched by name by Step Functions' Catch, by `instanceof` in process). */
export const GRAPH_ERRORS = {
  validationFailed: 'ValidationFailedError',
  approvalRejected: 'ApprovalRejectedError',
  approvalTimedOut: 'ApprovalTimedOutError',
} as const;

/** Where a node's outcome (or error) leads. */
export type Target =
  /** The next node; `alert`: the operators are told on the way, with this subject (the run goes on). */
  | { readonly next: NodeName; readonly alert?: string }
  /** The run ends with this status; `alert`: the operators are told, with this subject. */
  | { readonly end: RunStatus; readonly alert?: string }
  /** failRun takes over, recording `step` as the failed step (`error`: the error it records, when the branch is not an error). */
  | { readonly failRun: StepName; readonly error?: { readonly name: string; readonly message: string } };

export interface GraphNode {
  /** Outcome of the node → what follows. A node with one way on has the single outcome `ok`. */
  readonly on: Readonly<Record<string, Target>>;
  /** Where an error the node throws leads (after the retries of a transient error). */
  readonly onError: Target;
  /**
   * The node may hold the run for a person's decision (its task answers `held`). Locally the walk
   * ends with this status and the decision resumes it at this node (`dropkit approve|reject`, or a
   * run after the timeout); on AWS the execution waits in the node for a task token. Either way the
   * decision arrives as one of the node's outcomes.
   */
  readonly holds?: RunStatus;
}

export const NOTICE_NOT_SENT = 'dropkit: a drop was delivered but its notice was not sent';
export const PUSH_INCOMPLETE = 'dropkit: a drop was delivered but not pushed to every destination';

/**
 * A push node: past the commit point, so a destination that fails never un-delivers the drop. Its
 * failure (a destination recorded `failed`, or the push itself throwing) goes on to `then` with an
 * operator alert; the next run of the slot (pushRepaired) resumes what is not yet pushed.
 */
function pushNode(then: NodeName): GraphNode {
  return { on: { pushed: { next: then }, incomplete: { next: then, alert: PUSH_INCOMPLETE } }, onError: { next: then, alert: PUSH_INCOMPLETE } };
}

/** The graph. Outcome names are the values the steps return (plan's `status`, validate's outcome, failRun's `status`). */
export const STEP_GRAPH: Readonly<Record<NodeName, GraphNode>> = {
  plan: {
    on: { planned: { next: 'stage' }, 'already-delivered': { next: 'pushRepaired' }, busy: { end: 'busy' } },
    onError: { end: 'failed', alert: 'dropkit: a run could not be planned' },
  },
  // A delivered slot: resume the pushes its run left unfinished (a destination already delivered is not contacted).
  pushRepaired: pushNode('repair'),
  // A delivered slot: finish what a run that died after its commit point left, and clear a dead newer attempt (a crashed rerun).
  repair: {
    on: { ok: { end: 'already-delivered' } },
    onError: { end: 'already-delivered', alert: 'dropkit: a delivered slot could not be repaired' },
  },
  stage: { on: { ok: { next: 'validate' } }, onError: { failRun: 'stage' } },
  validate: {
    on: {
      publishable: { next: 'render' },
      failed: {
        failRun: 'validate',
        error: { name: GRAPH_ERRORS.validationFailed, message: 'an error-severity check failed; nothing is published' },
      },
    },
    onError: { failRun: 'validate' },
  },
  render: { on: { ok: { next: 'approve' } }, onError: { failRun: 'render' } },
  // Sign-off (lib/core/approval): nothing is published while a drop is held; a rejection or a timeout rolls the attempt back.
  approve: {
    on: {
      'not-required': { next: 'publish' },
      approved: { next: 'publish' },
      rejected: {
        failRun: 'approve',
        error: { name: GRAPH_ERRORS.approvalRejected, message: 'an approver rejected the drop; nothing is published' },
      },
      'timed-out': {
        failRun: 'approve',
        error: { name: GRAPH_ERRORS.approvalTimedOut, message: 'no approver decided before the approval timeout; nothing is published' },
      },
    },
    onError: { failRun: 'approve' },
    holds: 'awaiting-approval',
  },
  publish: { on: { ok: { next: 'push' } }, onError: { failRun: 'publish' } },
  // Destinations get the drop before the notice, so a partner told of it finds it where the feed puts it.
  push: pushNode('notify'),
  // Past the commit point: a notice that cannot be sent leaves a delivered drop; the next run of the slot (repair) sends it.
  notify: { on: { ok: { end: 'delivered' } }, onError: { end: 'delivered', alert: NOTICE_NOT_SENT } },
  failRun: {
    on: {
      // The manifest was written before the failure: delivered after all, and the notice still goes out.
      delivered: { next: 'pushRecovered' },
      busy: { end: 'busy' },
      failed: { end: 'failed' },
      'validation-failed': { end: 'validation-failed' },
    },
    onError: { end: 'failed', alert: 'dropkit: a run failed and could not be rolled back' },
  },
  pushRecovered: pushNode('notifyRecovered'),
  notifyRecovered: { on: { ok: { end: 'delivered' } }, onError: { end: 'delivered', alert: NOTICE_NOT_SENT } },
};

export const START_NODE: NodeName = 'plan';

/** validate's outcome: whether the report lets the drop be published. */
export function validateOutcome(validation: { readonly status: string } | undefined): 'publishable' | 'failed' {
  return validation?.status === 'fail' ? 'failed' : 'publishable';
}

/** The node a target leads to, or undefined for an end or failRun. */
export function targetNode(t: Target): NodeName | undefined {
  return 'next' in t ? t.next : 'failRun' in t ? 'failRun' : undefined;
}

/** Every node reachable from the start; a node nothing reaches is a defect the graph test names. */
export function reachable(graph: Readonly<Record<NodeName, GraphNode>> = STEP_GRAPH): Set<NodeName> {
  const seen = new Set<NodeName>();
  const visit = (n: NodeName) => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const t of [...Object.values(graph[n].on), graph[n].onError]) {
      const to = targetNode(t);
      if (to) visit(to);
    }
  };
  visit(START_NODE);
  return seen;
}
