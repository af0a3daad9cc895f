// The JSON Schema of policy files, for editors: generated from the zod schema so the two cannot drift.
import { z } from 'zod';
import { policySchema } from './policy-schema';

export function policyJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(policySchema, { io: 'input', target: 'draft-2020-12' }),
    title: 'dps-allocator allocation policy',
  };
}
