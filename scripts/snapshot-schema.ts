/**
 * Writes resources/snapshot.schema.json from the zod schema in src/shared/snapshot.ts, so
 * that a process in any language can validate what it publishes. A test keeps the file in
 * step with the schema: run `node --import tsx scripts/snapshot-schema.ts` after changing it.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshotJsonSchema } from '../src/shared/snapshotJsonSchema.js';

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'snapshot.schema.json');
writeFileSync(target, `${JSON.stringify(snapshotJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
