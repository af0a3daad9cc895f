// `POST /enrollmentGroups/{id}/attestationmechanism` and `POST /enrollments/{id}/attestationmechanism`
// (dps-contract.md §2.1): the attestation WITH its symmetric keys, which GET leaves out. An update must send the
// keys back, or DPS would store the group without them (and generate new ones, as the emulator does), cutting off
// every device. `az iot dps enrollment-group update` does the same read before its PUT
// (Azure/azure-iot-cli-extension azext_iot/operations/dps.py, iot_dps_device_enrollment_group_update).
// DpsClient has no such call; this reader is built from the client's own parts (auth, HTTP, errors, retries).
import type { TokenCredential } from '@azure/identity';
import { authorizerFor, type DpsAuthorizer } from '../dps/auth';
import { DPS_API_VERSION } from '../dps/client';
import { systemClock, type Clock } from '../dps/clock';
import { DpsUnauthorizedError, errorFromResponse } from '../dps/errors';
import { DpsHttp, originForHost } from '../dps/http';
import { readBody, responseHeader } from '../dps/response';
import { defaultRetryOptions, parseRetryAfter, withRetry, type RetryOptions } from '../dps/retry';
import { attestationMechanismSchema, type AttestationMechanism } from '../dps/schemas';
import type { EnrollmentTarget } from './plan';

export interface AttestationReaderOptions {
  /** As for DpsClient: SAS when given, else Entra ID with `hostName` and `credential`. */
  connectionString?: string;
  hostName?: string;
  credential?: TokenCredential;
  caCertificate?: string | Buffer;
  retry?: Partial<RetryOptions>;
  clock?: Clock;
}

/** Reads attestation mechanisms (keys included) from one DPS instance. Call `close()` when done. */
export class AttestationReader {
  private readonly authorizer: DpsAuthorizer;
  private readonly http: DpsHttp;
  private readonly clock: Clock;
  private readonly retry: RetryOptions;

  constructor(options: AttestationReaderOptions) {
    this.clock = options.clock ?? systemClock;
    const endpoint = authorizerFor(options, this.clock);
    this.authorizer = endpoint.authorizer;
    this.http = new DpsHttp({
      origin: originForHost(endpoint.hostName),
      caCertificate: options.caCertificate,
      connections: 1,
    });
    this.retry = { ...defaultRetryOptions, ...options.retry };
  }

  async read(target: EnrollmentTarget, signal?: AbortSignal): Promise<AttestationMechanism> {
    const operation =
      target.kind === 'enrollmentGroup'
        ? 'getEnrollmentGroupAttestationMechanism'
        : 'getIndividualEnrollmentAttestationMechanism';
    const collection = target.kind === 'enrollmentGroup' ? 'enrollmentGroups' : 'enrollments';
    const path = `/${collection}/${encodeURIComponent(target.id)}/attestationmechanism?api-version=${DPS_API_VERSION}`;
    return withRetry(
      async () => {
        let authorization: string;
        try {
          authorization = await this.authorizer.authorization(signal);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          throw new DpsUnauthorizedError(`DPS ${operation}: no access token (${reason})`, {
            operation,
            cause: error,
          });
        }
        const response = await this.http.send(operation, {
          method: 'POST',
          path,
          headers: { accept: 'application/json', 'user-agent': 'dps-allocator', authorization },
          signal,
        });
        if (response.status < 200 || response.status >= 300) {
          const retryAfterMs = parseRetryAfter(responseHeader(response, 'retry-after'), this.clock.now());
          throw errorFromResponse(operation, response, retryAfterMs);
        }
        return readBody(operation, attestationMechanismSchema, response);
      },
      this.retry,
      { clock: this.clock, signal },
    );
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
