import { z } from 'zod';
import { query } from '../contractKit.js';
import { allocationHistorySchema, allocationStatusSchema, allocationUpdateSchema } from '../allocation.js';

/**
 * The global fund allocator's groups as the Allocation screen reads them: each group's funds,
 * use and per-symbol allocations, its rebalance history and usage over time; `allocationUpdated`
 * carries a group's status (and a usage sample) whenever it changes.
 */

/** Without `group`, the first configured group. */
const groupParam = z.object({ group: z.string().min(1).max(64).optional() });

export const allocationEntries = {
  listAllocationGroups: query(z.object({}), z.array(z.string()), '/api/allocation/groups', 'the names of the configured allocation groups'),
  getAllocation: query(groupParam, allocationStatusSchema, '/api/allocation', "an allocation group's funds, use and per-symbol allocations"),
  getAllocationHistory: query(groupParam, allocationHistorySchema, '/api/allocation/history', "an allocation group's rebalances (with reasons) and usage over time"),
};

export const allocationEvents = {
  allocationUpdated: allocationUpdateSchema,
};
