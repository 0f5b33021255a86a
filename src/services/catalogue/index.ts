import type { ProcedureDefinition } from '../../domain/procedureDefinition';
import { civilStatusExtract } from './civilStatusExtract';
import { foreignWorkerDemand } from './foreignWorkerDemand';
import { workPermit } from './workPermit';

/** The procedures the portal ships with, published with the demo agencies. */
export const SHIPPED_PROCEDURES: readonly ProcedureDefinition[] = [
  foreignWorkerDemand,
  workPermit,
  civilStatusExtract,
];
