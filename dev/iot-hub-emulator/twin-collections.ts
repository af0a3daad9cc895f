// Tags and desired properties of a device twin: the JSON merge patch IoT Hub applies on "update twin" (null
// removes a key, objects merge, anything else replaces) and the checks of the project's twin limits
// (docs/dps-contract.md §8.1, src/allocation/twin-limits.ts), also applied to what a client writes to the hub.
import { checkTwinCollection, TWIN_LIMITS } from '../../src/allocation/twin-limits';
import { hubBadRequest } from './errors';

export type TwinCollection = Record<string, unknown>;

/** What a twin patch or replacement writes; undefined leaves a collection as it is. */
export interface TwinWrite {
  tags: TwinCollection | undefined;
  desired: TwinCollection | undefined;
}

function isObject(value: unknown): value is TwinCollection {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `patch` merged into `target` (a new object; undefined when nothing is left). */
export function mergeTwinPatch(
  target: TwinCollection | undefined,
  patch: TwinCollection,
): TwinCollection | undefined {
  const merged: TwinCollection = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (isObject(value)) {
      const current = merged[key];
      const child = mergeTwinPatch(isObject(current) ? current : undefined, value);
      if (child === undefined) delete merged[key];
      else merged[key] = child;
    } else merged[key] = value;
  }
  return Object.keys(merged).length === 0 ? undefined : merged;
}

/** A 400 naming the first problems when a collection breaks the twin limits. */
export function assertTwinCollection(
  collection: TwinCollection | undefined,
  where: 'tags' | 'desired',
): void {
  if (!collection) return;
  const maxBytes = where === 'tags' ? TWIN_LIMITS.tagsBytes : TWIN_LIMITS.desiredBytes;
  const problems = checkTwinCollection(collection, where, maxBytes);
  if (problems.length === 0) return;
  const listed = problems
    .slice(0, 3)
    .map((problem) => `${problem.path.slice(0, 200)} ${problem.message}`)
    .join('; ');
  throw hubBadRequest(`The twin's ${where} break IoT Hub's twin limits: ${listed}`);
}

/** The collections of a twin body (`{tags?, properties?: {desired?}}`); `reported` belongs to the device. */
export function parseTwinBody(body: unknown): TwinWrite {
  if (!isObject(body))
    throw hubBadRequest('The body must be a twin: {"tags"?: {...}, "properties"?: {"desired"?: {...}}}');
  const { tags, properties } = body;
  if (tags !== undefined && tags !== null && !isObject(tags)) throw hubBadRequest('tags must be an object');
  if (properties !== undefined && properties !== null && !isObject(properties)) {
    throw hubBadRequest('properties must be an object');
  }
  const desired = isObject(properties) ? properties.desired : undefined;
  if (desired !== undefined && desired !== null && !isObject(desired)) {
    throw hubBadRequest('properties.desired must be an object');
  }
  if (isObject(properties) && properties.reported !== undefined) {
    throw hubBadRequest('Reported properties are written by the device, not through the service API');
  }
  return {
    tags: isObject(tags) ? tags : undefined,
    desired: isObject(desired) ? withoutMetadata(desired) : undefined,
  };
}

/** `$metadata` and `$version` are the hub's; a client that sends them back does not write them. */
function withoutMetadata(collection: TwinCollection): TwinCollection {
  const copy = { ...collection };
  delete copy.$metadata;
  delete copy.$version;
  return copy;
}

export function copyCollection(collection: TwinCollection | undefined | null): TwinCollection | undefined {
  if (!collection || Object.keys(collection).length === 0) return undefined;
  return structuredClone(collection);
}
