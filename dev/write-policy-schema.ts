// `npm run policy:schema`: regenerates policies/policy.schema.json from the zod policy schema.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { policyJsonSchema } from '../src/allocation/policy-json-schema';
import { appRoot } from '../src/allocation/policy-source';

const target = path.join(appRoot(), 'policies', 'policy.schema.json');
writeFileSync(target, `${JSON.stringify(policyJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
