// The topic the publisher sends to: @azure/eventgrid's EventGridPublisherClient with the CloudEvent input schema
// (docs/events-contract.md §2.1), a key (aeg-sas-key) or the app's identity (EventGrid Data Sender role, §5). The
// SDK's own retries are off: the publisher retries, with its queue, without holding a send open for a minute.
import type * as EventGrid from '@azure/eventgrid';
import type { TokenCredential } from '@azure/identity';
import type * as Identity from '@azure/identity';
import type { EventSink } from './publisher';

export interface EventGridSinkOptions {
  endpoint: string;
  /** EVENTS_TOPIC_KEY; absent: a managed identity. */
  key?: string;
  /** The user-assigned identity's client id (AzureWebJobsStorage__clientId), as the table clients use it. */
  clientId?: string;
  /** Replaces the identity credential (tests). */
  credential?: TokenCredential;
}

function identityCredential(clientId: string | undefined): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const identity = require('@azure/identity') as typeof Identity;
  return clientId
    ? new identity.ManagedIdentityCredential({ clientId })
    : new identity.DefaultAzureCredential();
}

export function createEventGridSink(options: EventGridSinkOptions): EventSink {
  // Loaded here, not at import: allocate's cold start does not pay for the SDK (see src/decisions/recorder.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const eventGrid = require('@azure/eventgrid') as typeof EventGrid;
  const credential = options.key
    ? new eventGrid.AzureKeyCredential(options.key)
    : (options.credential ?? identityCredential(options.clientId));
  const client = new eventGrid.EventGridPublisherClient(options.endpoint, 'CloudEvent', credential, {
    retryOptions: { maxRetries: 0 },
    // The pipeline refuses http otherwise; settings allow http only for 127.0.0.1 and localhost (the emulator).
    allowInsecureConnection: options.endpoint.startsWith('http:'),
  });
  return {
    target: options.endpoint,
    send: (events, signal) => client.send([...events], { abortSignal: signal }),
  };
}
