import { checkWorkflow, type WorkflowDefinition, WorkflowDefinitionError } from '../engine';
import { communeSimple } from './communeSimple';
import { oneStopDefault } from './oneStopDefault';

/** The workflows procedures may name, checked when they load: a broken one stops the portal. */
export function loadWorkflows(
  defs: readonly WorkflowDefinition[] = [oneStopDefault, communeSimple],
): Map<string, WorkflowDefinition> {
  const map = new Map<string, WorkflowDefinition>();
  for (const def of defs) {
    const problems = checkWorkflow(def);
    if (map.has(def.name)) problems.push('another workflow has the same name');
    if (problems.length > 0) throw new WorkflowDefinitionError(def.name, problems);
    map.set(def.name, def);
  }
  return map;
}
