// What configure needs from DPS, behind one small interface (tests can swap it), and its implementation over
// the project's DPS client.
import type { DpsClient } from '../../dps/client';
import { DpsNotFoundError } from '../../dps/errors';
import type { AttestationMechanism, EnrollmentGroup, IndividualEnrollment } from '../../dps/schemas';
import type { Enrollment, EnrollmentTarget } from './plan';

export interface EnrollmentStore {
  /** The enrollment as GET returns it (no symmetric keys); undefined when it does not exist. */
  get(target: EnrollmentTarget): Promise<Enrollment | undefined>;
  /** The attestation with its keys. */
  readAttestation(target: EnrollmentTarget): Promise<AttestationMechanism>;
  /** PUT, with `If-Match: ifMatch` when given (DpsPreconditionFailedError when it no longer matches). */
  put(target: EnrollmentTarget, enrollment: Enrollment, ifMatch: string | undefined): Promise<Enrollment>;
}

export function dpsEnrollmentStore(client: DpsClient): EnrollmentStore {
  return {
    async get(target) {
      try {
        return target.kind === 'enrollmentGroup'
          ? await client.getEnrollmentGroup(target.id)
          : await client.getIndividualEnrollment(target.id);
      } catch (error) {
        if (error instanceof DpsNotFoundError) return undefined;
        throw error;
      }
    },
    readAttestation: (target) =>
      target.kind === 'enrollmentGroup'
        ? client.getEnrollmentGroupAttestationMechanism(target.id)
        : client.getIndividualEnrollmentAttestationMechanism(target.id),
    put(target, enrollment, ifMatch) {
      const options = ifMatch === undefined ? {} : { ifMatch };
      return target.kind === 'enrollmentGroup'
        ? client.createOrUpdateEnrollmentGroup(enrollment as EnrollmentGroup, options)
        : client.createOrUpdateIndividualEnrollment(enrollment as IndividualEnrollment, options);
    },
  };
}
