// One entity group transaction (Table service `$batch`: one partition, at most 100 operations), built as a single
// multipart body and sent through the TableClient's own pipeline (its authentication, retries and TLS).
// Why not TableClient.submitTransaction: it runs every entity through a full intercepting pipeline (a request,
// a span and a serialised body each, and a new TableClient per transaction), all alive until the batch is
// answered, so a long scan's peak memory grows with its size; this way it stays flat (the README's benchmark
// section, audit memory, has the figures).
import { randomUUID } from 'node:crypto';
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
} from '@azure/core-rest-pipeline';
import type { TableClient } from '@azure/data-tables';

export type BatchAction = readonly ['upsert' | 'delete', { partitionKey: string; rowKey: string }];

/** A transaction the service refused (or one of its operations); status and code as the service gave them. */
export class TableBatchError extends Error {
  override name = 'TableBatchError';

  constructor(
    message: string,
    readonly statusCode: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const INT32_LIMIT = 2 ** 31;
const CRLF = '\r\n';

let sharedHttpClient: HttpClient | undefined;
const httpClient = (): HttpClient => (sharedHttpClient ??= createDefaultHttpClient());

/** The entity's JSON as the Table service reads it: dates and non-Int32 numbers carry their EDM type. */
export function entityJson(entity: object): string {
  const body: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(entity)) {
    if (value === undefined) continue;
    if (value instanceof Date) {
      body[name] = value.toISOString();
      body[`${name}@odata.type`] = 'Edm.DateTime';
    } else if (typeof value === 'number' && !(Number.isInteger(value) && Math.abs(value) < INT32_LIMIT)) {
      body[name] = value;
      body[`${name}@odata.type`] = 'Edm.Double';
    } else {
      body[name] = value;
    }
  }
  return JSON.stringify(body);
}

/** A key inside `Table(PartitionKey='…',RowKey='…')`: quotes doubled, then URL-encoded. */
const keyLiteral = (key: string) => encodeURIComponent(key.replace(/'/g, "''"));

/** The multipart/mixed body of one changeset. */
export function batchBody(
  tableUrl: string,
  actions: readonly BatchAction[],
  boundaries: { batch: string; changeset: string },
): string {
  const { batch, changeset } = boundaries;
  const parts = [`--${batch}${CRLF}Content-Type: multipart/mixed; boundary=${changeset}${CRLF}${CRLF}`];
  for (const [kind, entity] of actions) {
    const url = `${tableUrl}(PartitionKey='${keyLiteral(entity.partitionKey)}',RowKey='${keyLiteral(entity.rowKey)}')`;
    parts.push(
      `--${changeset}${CRLF}Content-Type: application/http${CRLF}Content-Transfer-Encoding: binary${CRLF}${CRLF}`,
    );
    if (kind === 'delete') {
      parts.push(
        `DELETE ${url} HTTP/1.1${CRLF}Accept: application/json;odata=minimalmetadata${CRLF}If-Match: *${CRLF}${CRLF}`,
      );
    } else {
      parts.push(
        `PUT ${url} HTTP/1.1${CRLF}Accept: application/json;odata=minimalmetadata${CRLF}` +
          `Content-Type: application/json${CRLF}DataServiceVersion: 3.0${CRLF}${CRLF}${entityJson(entity)}${CRLF}`,
      );
    }
  }
  parts.push(`--${changeset}--${CRLF}--${batch}--${CRLF}`);
  return parts.join('');
}

/** The first failed operation of a batch response, or undefined when every operation succeeded. */
export function batchFailure(status: number, body: string): TableBatchError | undefined {
  const statuses = [...body.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((match) => Number(match[1]));
  const failed = statuses.find((code) => code >= 300);
  if (status === 202 && failed === undefined && statuses.length > 0) return undefined;
  const statusCode = failed ?? (status === 202 ? 500 : status);
  let code: string | undefined;
  let message = `the batch failed with HTTP ${statusCode}`;
  const json = /\{[\s\S]*\}/.exec(body)?.[0];
  if (json) {
    try {
      const error = (JSON.parse(json) as { 'odata.error'?: { code?: string; message?: { value?: string } } })[
        'odata.error'
      ];
      code = error?.code;
      if (error?.message?.value) message = `${message}: ${error.message.value}`;
    } catch {
      // Not JSON: the status says enough.
    }
  }
  return new TableBatchError(message, statusCode, code);
}

/** Writes the actions (one partition, at most 100) as one transaction: all of them, or none. */
export async function submitBatch(
  client: TableClient,
  actions: readonly BatchAction[],
  options: { abortSignal?: AbortSignal } = {},
): Promise<void> {
  const base = client.url.replace(/\/$/, '');
  const boundaries = { batch: `batch_${randomUUID()}`, changeset: `changeset_${randomUUID()}` };
  const request = createPipelineRequest({
    url: `${base}/$batch`,
    method: 'POST',
    body: batchBody(`${base}/${client.tableName}`, actions, boundaries),
    // The pipeline's own policies refuse http:// unless told (Azurite); the URL comes from the app's settings.
    allowInsecureConnection: base.startsWith('http://'),
    abortSignal: options.abortSignal,
    headers: createHttpHeaders({
      accept: 'application/json',
      'x-ms-version': '2019-02-02',
      DataServiceVersion: '3.0;',
      MaxDataServiceVersion: '3.0;NetFx',
      'Content-Type': `multipart/mixed; boundary=${boundaries.batch}`,
    }),
  });
  const response = await client.pipeline.sendRequest(httpClient(), request);
  const failure = batchFailure(response.status, response.bodyAsText ?? '');
  if (failure) throw failure;
}
