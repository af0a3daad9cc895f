// Reading a property named in a query's $select. Azure answers one the entity lacks with null, where Azurite
// leaves it out (https://github.com/Azure/Azurite/issues/2535): both are read as absent.
import type { z } from 'zod';

export const absentIfNull = <T extends z.ZodType>(schema: T) =>
  schema.nullish().transform((value) => value ?? undefined);
