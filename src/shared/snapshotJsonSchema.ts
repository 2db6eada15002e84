import { z } from 'zod';
import { snapshotSchema } from './snapshot.js';

/** The snapshot contract as JSON Schema (what a publisher writes: defaults may be omitted). */
export function snapshotJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(snapshotSchema, { io: 'input', target: 'draft-2020-12' }),
    $id: 'https://kestrel.invalid/schema/snapshot.schema.json',
    title: 'Kestrel variant snapshot',
    description:
      'Written atomically (temporary file + rename) as <data>/monitor/snapshot_<variant>.json by any process that wants to appear in Kestrel.',
  };
}
