import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadWorkflows } from '../../src/workflows/definitions';
import { communeSimple } from '../../src/workflows/definitions/communeSimple';
import { oneStopDefault } from '../../src/workflows/definitions/oneStopDefault';
import {
  availableActions,
  budgetShare,
  checkWorkflow,
  resolve,
  type WorkflowDefinition,
  WorkflowDefinitionError,
} from '../../src/workflows/engine';

describe('workflow definitions', () => {
  it('the shipped workflows pass every check', () => {
    assert.deepEqual(checkWorkflow(oneStopDefault), []);
    assert.deepEqual(checkWorkflow(communeSimple), []);
    assert.deepEqual([...loadWorkflows().keys()], ['one-stop-default', 'commune-simple']);
  });

  const broken = (change: (d: WorkflowDefinition) => WorkflowDefinition) =>
    checkWorkflow(change(structuredClone(oneStopDefault) as WorkflowDefinition));

  it('finds an unreachable status', () => {
    const problems = broken((d) => ({
      ...d,
      actions: d.actions.filter((a) => !a.name.startsWith('release')),
    }));
    assert.ok(
      problems.some((p) => /RESULT_READY cannot be reached/.test(p)),
      problems.join('; '),
    );
  });
  it('finds a status with no way out', () => {
    const problems = broken((d) => ({ ...d, actions: d.actions.filter((a) => a.name !== 'return_result') }));
    assert.ok(
      problems.some((p) => /RESULT_READY is not final but has no way out/.test(p)),
      problems.join('; '),
    );
  });
  it('finds an unknown role and an unknown action', () => {
    const problems = broken((d) => ({
      ...d,
      actions: [
        ...d.actions.map((a) => (a.name === 'approve' ? { ...a, roles: ['DIRECTOR' as never] } : a)),
        {
          name: 'teleport' as never,
          from: ['SUBMITTED'],
          to: 'RETURNED',
          roles: ['CLERK'],
          requires: [],
          notify: [],
        },
      ],
    }));
    assert.ok(problems.some((p) => /approve names unknown role DIRECTOR/.test(p)));
    assert.ok(problems.some((p) => /unknown action teleport/.test(p)));
  });
  it('finds budgets that do not add up to the time limit', () => {
    const problems = broken((d) => ({ ...d, budgets: d.budgets.slice(1) }));
    assert.ok(problems.some((p) => /add up to 90%/.test(p)));
  });
  it('refuses to load a broken workflow, naming the problems', () => {
    assert.throws(
      () => loadWorkflows([{ ...oneStopDefault, budgets: [] }]),
      (err: Error) => err instanceof WorkflowDefinitionError && /add up to 0%/.test(err.message),
    );
  });
});

describe('the engine on the one-stop workflow', () => {
  it('allows each role its own moves', () => {
    assert.equal(resolve(oneStopDefault, 'SUBMITTED', 'accept', ['RECEPTION']).ok, true);
    assert.equal(resolve(oneStopDefault, 'IN_REVIEW', 'propose_approval', ['SPECIALIST']).ok, true);
    assert.equal(resolve(oneStopDefault, 'PROPOSED_APPROVAL', 'approve', ['APPROVER']).ok, true);
    assert.equal(resolve(oneStopDefault, 'APPROVED', 'release', ['CLERK']).ok, true);
    assert.equal(resolve(oneStopDefault, 'SUPPLEMENT_REQUESTED', 'resubmit', ['APPLICANT']).ok, true);
  });
  it('refuses moves from the wrong status, by the wrong role, and unknown actions', () => {
    assert.deepEqual(resolve(oneStopDefault, 'SUBMITTED', 'approve', ['APPROVER']), {
      ok: false,
      reason: 'NOT_NOW',
    });
    assert.deepEqual(resolve(oneStopDefault, 'PROPOSED_APPROVAL', 'approve', ['SPECIALIST']), {
      ok: false,
      reason: 'NOT_YOUR_ROLE',
    });
    assert.deepEqual(resolve(oneStopDefault, 'SUBMITTED', 'fly', ['RECEPTION']), {
      ok: false,
      reason: 'UNKNOWN_ACTION',
    });
    assert.deepEqual(resolve(oneStopDefault, 'RETURNED', 'withdraw', ['APPLICANT']), {
      ok: false,
      reason: 'NOT_NOW',
    });
    assert.deepEqual(
      resolve(oneStopDefault, 'APPROVED', 'withdraw', ['APPLICANT']),
      { ok: false, reason: 'NOT_NOW' },
      'no withdrawal after the decision',
    );
  });
  it('lists what a role may do now', () => {
    assert.deepEqual(
      availableActions(oneStopDefault, 'SUBMITTED', ['RECEPTION'])
        .map((a) => a.name)
        .sort(),
      ['accept', 'extend', 'refuse', 'request_supplement'],
    );
    assert.deepEqual(
      availableActions(oneStopDefault, 'SUBMITTED', ['APPLICANT']).map((a) => a.name),
      ['withdraw'],
    );
  });
  it('gives each step its share of the time limit, none while paused or closed', () => {
    assert.equal(budgetShare(oneStopDefault, 'IN_REVIEW'), 0.55);
    assert.equal(budgetShare(oneStopDefault, 'PROPOSED_REFUSAL'), 0.15);
    assert.equal(budgetShare(oneStopDefault, 'SUPPLEMENT_REQUESTED'), 0);
    assert.equal(budgetShare(oneStopDefault, 'RETURNED'), 0);
  });
});

describe('the engine on the commune workflow', () => {
  it('goes from reception straight to the chair, with no proposal step', () => {
    assert.equal(resolve(communeSimple, 'SUBMITTED', 'accept', ['RECEPTION']).ok, true);
    assert.equal(resolve(communeSimple, 'IN_REVIEW', 'approve', ['APPROVER']).ok, true);
    assert.deepEqual(resolve(communeSimple, 'IN_REVIEW', 'propose_approval', ['SPECIALIST']), {
      ok: false,
      reason: 'UNKNOWN_ACTION',
    });
  });
  it('lets the desk refuse to receive, and only the chair refuse a dossier once received', () => {
    assert.equal(resolve(communeSimple, 'SUBMITTED', 'refuse', ['RECEPTION']).ok, true);
    assert.deepEqual(resolve(communeSimple, 'IN_REVIEW', 'refuse', ['RECEPTION']), {
      ok: false,
      reason: 'NOT_YOUR_ROLE',
    });
    assert.equal(resolve(communeSimple, 'IN_REVIEW', 'refuse', ['APPROVER']).ok, true);
    assert.deepEqual(resolve(communeSimple, 'SUBMITTED', 'refuse', ['APPROVER']), {
      ok: false,
      reason: 'NOT_YOUR_ROLE',
    });
  });
});
