import type { DossierStatus } from '../domain/dossierStatus';
import { DOSSIER_STATUSES } from '../domain/dossierStatus';
import { OFFICER_ROLES, type OfficerRole } from '../domain/roles';

/** Who takes an action: an officer role, or the applicant who owns the dossier. */
export type ActorRole = OfficerRole | 'APPLICANT';
export const ACTOR_ROLES: readonly ActorRole[] = [...OFFICER_ROLES, 'APPLICANT'];

export const WORKFLOW_ACTIONS = [
  'accept',
  'refuse',
  'request_supplement',
  'resubmit',
  'withdraw',
  'assign',
  'propose_approval',
  'propose_refusal',
  'send_back',
  'approve',
  'release',
  'release_paper',
  'return_result',
  'extend',
] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

/** What an action needs from the person taking it. */
export type Requirement = 'reason' | 'papers' | 'assignee' | 'newDueDate' | 'pin';

/** What an action does with the result document: the approver signs it, the clerk numbers and seals it,
 * or the clerk records that it was issued on paper (a scan attached). */
export type ResultStep = 'SIGN' | 'SEAL' | 'PAPER';

/** Whom a transition tells, by email and in the portal. */
export type Audience = 'APPLICANT' | 'ASSIGNEE' | 'AGENCY_RECEPTION' | 'AGENCY_APPROVERS' | 'AGENCY_CLERKS';

export interface ActionDef {
  name: WorkflowAction;
  from: readonly DossierStatus[];
  /** The next status; 'SAME' keeps it (an extension), 'RETURN' goes back to where a supplement was asked. */
  to: DossierStatus | 'SAME' | 'RETURN';
  roles: readonly ActorRole[];
  /** Narrower roles from some statuses (reception refuses a new dossier; only the approver refuses
   * one that has been reviewed). Statuses not listed take `roles`. */
  rolesFrom?: Partial<Record<DossierStatus, readonly ActorRole[]>>;
  requires: readonly Requirement[];
  /** Whether the officer may, or must, attach a PDF to the action (a proposal memo, an appraisal). */
  attachment?: 'optional' | 'required';
  /** A specialist may take it only on a dossier assigned to them (other roles are not limited). */
  assigneeOnly?: boolean;
  result?: ResultStep;
  notify: readonly Audience[];
}

export interface StepBudget {
  /** The statuses in which this step's officer is working on the dossier. */
  states: readonly DossierStatus[];
  /** Share of the procedure's time limit, in percent. */
  percent: number;
}

export interface WorkflowDefinition {
  name: string;
  initial: DossierStatus;
  final: readonly DossierStatus[];
  /** The legal clock stands still in these statuses (the applicant's turn). */
  paused: readonly DossierStatus[];
  actions: readonly ActionDef[];
  budgets: readonly StepBudget[];
}

export class WorkflowDefinitionError extends Error {
  constructor(
    readonly workflow: string,
    readonly problems: string[],
  ) {
    super(`Workflow "${workflow}" is not valid:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The statuses a definition uses. */
function statesOf(def: WorkflowDefinition): Set<DossierStatus> {
  const s = new Set<DossierStatus>([def.initial, ...def.final, ...def.paused]);
  for (const a of def.actions) {
    a.from.forEach((x) => s.add(x));
    if (a.to !== 'SAME' && a.to !== 'RETURN') s.add(a.to);
  }
  return s;
}

/** Every problem of a definition, so that the portal refuses to start with a broken one. */
export function checkWorkflow(def: WorkflowDefinition): string[] {
  const problems: string[] = [];
  const states = statesOf(def);
  for (const s of states)
    if (!(DOSSIER_STATUSES as readonly string[]).includes(s)) problems.push(`unknown status ${s}`);
  const names = new Set<string>();
  for (const a of def.actions) {
    if (!(WORKFLOW_ACTIONS as readonly string[]).includes(a.name)) problems.push(`unknown action ${a.name}`);
    if (names.has(a.name)) problems.push(`action ${a.name} is defined twice`);
    names.add(a.name);
    if (a.from.length === 0) problems.push(`action ${a.name} starts from no status`);
    if (a.roles.length === 0) problems.push(`action ${a.name} names no role`);
    for (const r of a.roles)
      if (!ACTOR_ROLES.includes(r)) problems.push(`action ${a.name} names unknown role ${r}`);
    for (const f of a.from)
      if (def.final.includes(f) && a.to !== 'SAME')
        problems.push(`action ${a.name} leaves final status ${f}`);
    if (a.to === 'RETURN' && !a.from.every((f) => def.paused.includes(f))) {
      problems.push(`action ${a.name} returns from a status where the clock is not paused`);
    }
  }
  // Reachability from the initial status; RETURN leads back to any status a pausing action came from.
  const reached = new Set<DossierStatus>([def.initial]);
  for (let changed = true; changed;) {
    changed = false;
    for (const a of def.actions) {
      if (!a.from.some((f) => reached.has(f))) continue;
      const targets: DossierStatus[] =
        a.to === 'SAME'
          ? []
          : a.to === 'RETURN'
            ? def.actions
                .filter((p) => p.to !== 'SAME' && p.to !== 'RETURN' && def.paused.includes(p.to))
                .flatMap((p) => [...p.from])
            : [a.to];
      for (const t of targets) {
        if (!reached.has(t)) {
          reached.add(t);
          changed = true;
        }
      }
    }
  }
  for (const s of states)
    if (!reached.has(s)) problems.push(`status ${s} cannot be reached from ${def.initial}`);
  for (const s of states) {
    if (def.final.includes(s)) continue;
    const out = def.actions.some((a) => a.from.includes(s) && a.to !== 'SAME');
    if (!out) problems.push(`status ${s} is not final but has no way out`);
  }
  const total = def.budgets.reduce((sum, b) => sum + b.percent, 0);
  if (Math.abs(total - 100) > 1e-9)
    problems.push(`step budgets add up to ${total}% of the time limit, not 100%`);
  for (const b of def.budgets) {
    for (const s of b.states) {
      if (!states.has(s)) problems.push(`a budget names status ${s}, which the workflow does not use`);
      if (def.final.includes(s) || def.paused.includes(s))
        problems.push(`a budget names ${s}, where nobody works on the clock`);
    }
  }
  return problems;
}

/** The roles that may take an action from a status. */
export function rolesFor(a: ActionDef, status: DossierStatus): readonly ActorRole[] {
  return a.rolesFrom?.[status] ?? a.roles;
}

export type Resolution =
  { ok: true; action: ActionDef } | { ok: false; reason: 'UNKNOWN_ACTION' | 'NOT_NOW' | 'NOT_YOUR_ROLE' };

/** Whether `roles` may take `action` on a dossier in `status` under `def`. */
export function resolve(
  def: WorkflowDefinition,
  status: DossierStatus,
  action: string,
  roles: readonly ActorRole[],
): Resolution {
  const a = def.actions.find((x) => x.name === action);
  if (!a) return { ok: false, reason: 'UNKNOWN_ACTION' };
  if (!a.roles.some((r) => roles.includes(r))) return { ok: false, reason: 'NOT_YOUR_ROLE' };
  if (!a.from.includes(status)) return { ok: false, reason: 'NOT_NOW' };
  if (!rolesFor(a, status).some((r) => roles.includes(r))) return { ok: false, reason: 'NOT_YOUR_ROLE' };
  return { ok: true, action: a };
}

/** The actions these roles may take now. */
export function availableActions(
  def: WorkflowDefinition,
  status: DossierStatus,
  roles: readonly ActorRole[],
): ActionDef[] {
  return def.actions.filter(
    (a) => a.from.includes(status) && rolesFor(a, status).some((r) => roles.includes(r)),
  );
}

/** The step budget of a status, as a share (0..1) of the time limit, or 0 when nobody works in it. */
export function budgetShare(def: WorkflowDefinition, status: DossierStatus): number {
  return (def.budgets.find((b) => b.states.includes(status))?.percent ?? 0) / 100;
}
