// One device registration, from request to final state: disabled enrollments, the built-in `hashed` and
// `static` policies, custom allocation through the webhook, and the reprovision policy of a device that
// was assigned before. The assignment is applied to the hubs (hub-assignment.ts) and the result is saved as the
// device's registration state.
import type { EnrollmentGroup, IndividualEnrollment } from '../../src/dps/schemas';
import type { AllocationResult, LinkedHub, PreviousAssignment } from './allocation';
import {
  assignmentSubstatus,
  hashedHub,
  initialTwinApplies,
  reprovisionSettingsOf,
  staticHub,
  webhookLinkedHubs,
} from './allocation';
import type { AttestationContext, WebhookCallDeps, WebhookSettings } from './custom-webhook';
import { buildAllocationRequest, callAllocationWebhook, maskWebhookUrl } from './custom-webhook';
import type { IotHubs } from '../iot-hub-emulator';
import { HubHttpError } from '../iot-hub-emulator';
import { presentEnrollment } from './enrollments';
import { ErrorCodes } from './errors';
import { applyAssignmentToHubs } from './hub-assignment';
import { hubAuthenticationOf, iotEdgeOf } from './hub-identity';
import type { StatsRecorder } from './stats';
import type { EmulatorStore, EnrollmentRef, RegistrationRecord } from './store';

/** What the emulator keeps about one webhook call (the last 100 are kept, for tests and debugging). */
export interface WebhookCallRecord {
  registrationId: string;
  /** The webhook URL with its query masked (`?****`): the function key is never kept. */
  webhookUrl: string;
  request: Record<string, unknown>;
  attemptStatuses: number[];
  outcome: AllocationResult;
}

export interface ProvisioningContext {
  store: EmulatorStore;
  linkedHubs: () => readonly LinkedHub[];
  webhookSettings: () => WebhookSettings;
  webhookDeps: WebhookCallDeps;
  stats: StatsRecorder;
  onWebhookCall: (call: WebhookCallRecord) => void;
  /** The registries DPS writes device identities and twins to. */
  hubs: IotHubs;
}

export interface RegistrationInput {
  /** As the device sent it (display case). */
  registrationId: string;
  enrollment: EnrollmentRef;
  payload: unknown;
  attestation: AttestationContext;
}

interface PreviousAssignmentView extends PreviousAssignment {
  deviceId: string | undefined;
}

/** When no linked hub can take the device (emulator choice: DPS's code for this case is unknown). */
const NO_HUB_AVAILABLE: AllocationResult = {
  kind: 'failed',
  errorCode: 400200,
  errorMessage: 'No IoT hub is available for this enrollment',
};

function enrollmentValue(ref: EnrollmentRef): EnrollmentGroup | IndividualEnrollment {
  return ref.kind === 'group' ? ref.group.value : ref.individual.value;
}

/** Marks the registration `assigning`, allocates, and saves the final state. */
export async function runRegistration(
  context: ProvisioningContext,
  input: RegistrationInput,
  record: RegistrationRecord,
): Promise<void> {
  const enrollment = enrollmentValue(input.enrollment);
  const previous: PreviousAssignmentView = {
    assignedHub: record.assignedHub,
    initialHub: record.initialHub,
    substatus: record.substatus,
    deviceId: record.deviceId,
  };
  if (enrollment.provisioningStatus === 'disabled') {
    finish(context, record, { status: 'disabled' });
    return;
  }
  record.status = 'assigning';
  record.errorCode = undefined;
  record.errorMessage = undefined;
  context.store.saveRegistration(record);

  const result = await allocate(context, input, enrollment, previous);
  if (result.kind === 'failed') {
    finish(context, record, {
      status: 'failed',
      errorCode: result.errorCode,
      errorMessage: result.errorMessage,
    });
    return;
  }
  const settings = reprovisionSettingsOf(enrollment);
  const substatus = assignmentSubstatus(previous, result.hub, settings);
  const writesInitialTwin = initialTwinApplies(previous.assignedHub, result.hub, settings);
  const initialTwin = writesInitialTwin
    ? (result.initialTwin ?? enrollment.initialTwin ?? undefined)
    : record.initialTwin;
  const deviceId =
    input.enrollment.kind === 'individual'
      ? (input.enrollment.individual.value.deviceId ?? record.registrationId)
      : record.registrationId;
  try {
    applyAssignmentToHubs(context.hubs, {
      previous: { hub: previous.assignedHub, deviceId: previous.deviceId },
      hub: result.hub,
      deviceId,
      settings,
      writesInitialTwin,
      initialTwin,
      authentication: hubAuthenticationOf(input),
      iotEdge: iotEdgeOf(input),
    });
  } catch (error) {
    if (!(error instanceof HubHttpError)) throw error;
    // The hub refused the identity: DPS passes the hub's error body on (docs/dps-contract.md §9.1).
    finish(context, record, {
      status: 'failed',
      errorCode: ErrorCodes.internalServerError,
      errorMessage: JSON.stringify(error.toBody()),
    });
    return;
  }
  record.initialTwin = initialTwin;
  record.initialHub ??= result.hub;
  record.assignedHub = result.hub;
  record.substatus = substatus;
  record.deviceId = deviceId;
  finish(context, record, { status: 'assigned', payload: result.payload });
}

function finish(
  context: ProvisioningContext,
  record: RegistrationRecord,
  state:
    | { status: 'disabled' }
    | { status: 'failed'; errorCode: number; errorMessage: string }
    | { status: 'assigned'; payload: Record<string, unknown> | undefined },
): void {
  record.status = state.status;
  record.errorCode = state.status === 'failed' ? state.errorCode : undefined;
  record.errorMessage = state.status === 'failed' ? state.errorMessage : undefined;
  record.payload = state.status === 'assigned' ? state.payload : undefined;
  context.store.saveRegistration(record);
  context.stats.outcome(state.status);
}

async function allocate(
  context: ProvisioningContext,
  input: RegistrationInput,
  enrollment: EnrollmentGroup | IndividualEnrollment,
  previous: PreviousAssignmentView,
): Promise<AllocationResult> {
  const linkedHubs = context.linkedHubs();
  const currentHub = previous.assignedHub;
  const settings = reprovisionSettingsOf(enrollment);
  const policy = enrollment.allocationPolicy ?? 'hashed';
  if (policy === 'custom') return allocateWithWebhook(context, input, enrollment, previous);
  if (currentHub !== undefined && !settings.updateHubAssignment) {
    return { kind: 'assigned', hub: currentHub, initialTwin: undefined, payload: undefined };
  }
  // geoLatency has no latency to measure here: DPS falls back to the weighted hash on ties.
  const hub =
    policy === 'static' ? staticHub(enrollment) : hashedHub(input.registrationId, enrollment, linkedHubs);
  return hub === undefined
    ? NO_HUB_AVAILABLE
    : { kind: 'assigned', hub, initialTwin: undefined, payload: undefined };
}

async function allocateWithWebhook(
  context: ProvisioningContext,
  input: RegistrationInput,
  enrollment: EnrollmentGroup | IndividualEnrollment,
  previous: PreviousAssignmentView,
): Promise<AllocationResult> {
  const definition = enrollment.customAllocationDefinition;
  if (!definition) {
    return {
      kind: 'failed',
      errorCode: ErrorCodes.customAllocationFailed,
      errorMessage: 'Custom allocation failed: the enrollment has no customAllocationDefinition',
    };
  }
  const linkedHubs = webhookLinkedHubs(enrollment, context.linkedHubs(), previous.assignedHub);
  const echoed =
    input.enrollment.kind === 'group'
      ? ({ kind: 'group', value: presentEnrollment(input.enrollment.group, { includeKeys: false }) } as const)
      : ({
          kind: 'individual',
          value: presentEnrollment(input.enrollment.individual, { includeKeys: false }),
        } as const);
  const request = buildAllocationRequest({
    enrollment: echoed as
      { kind: 'group'; value: EnrollmentGroup } | { kind: 'individual'; value: IndividualEnrollment },
    registrationId: input.registrationId,
    attestation: input.attestation,
    payload: input.payload,
    currentHub: previous.assignedHub,
    currentDeviceId: previous.deviceId,
    linkedHubs,
  });
  const { outcome, attemptStatuses } = await callAllocationWebhook(
    definition.webhookUrl,
    request,
    linkedHubs,
    context.webhookSettings(),
    context.webhookDeps,
  );
  context.stats.webhook(attemptStatuses.length);
  context.onWebhookCall({
    registrationId: input.registrationId,
    webhookUrl: maskWebhookUrl(definition.webhookUrl),
    request,
    attemptStatuses,
    outcome,
  });
  return outcome;
}
