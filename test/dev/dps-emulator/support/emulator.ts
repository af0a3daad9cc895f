// Shared by the emulator tests: a fast emulator (no waits), a small webhook server on 127.0.0.1, and raw
// HTTPS calls for what the official SDKs cannot send.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { Agent, request } from 'undici';
import { buildSasToken, encodeUriComponentStrict } from '../../../../src/dps/sas';
import type { DpsEmulator, DpsEmulatorOptions } from '../../../../dev/dps-emulator';
import { FAST_TIMING, startDpsEmulator } from '../../../../dev/dps-emulator';

export const HUB_A = 'hub-a.azure-devices.net';
export const HUB_B = 'hub-b.azure-devices.net';
export const HUB_C = 'hub-c.azure-devices.net';

/** An emulator that never makes a test wait: no assignment delay, retry-after 0, no quotas, tiny webhook retries. */
export function startTestEmulator(options: DpsEmulatorOptions = {}): Promise<DpsEmulator> {
  return startDpsEmulator({
    ...FAST_TIMING,
    webhookTimeoutMs: 2000,
    webhookRetry: { retries: 3, initialDelayMs: 1, incrementMs: 1 },
    linkedHubs: [{ hostName: HUB_A }, { hostName: HUB_B }, { hostName: HUB_C }],
    ...options,
  });
}

export interface WebhookCall {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export type WebhookReply = { status: number; body?: unknown; rawBody?: string; delayMs?: number };

export interface TestWebhook {
  /** Base URL, e.g. http://127.0.0.1:1234/api/allocate?code=secret-key */
  url: string;
  calls: WebhookCall[];
  /** Decides each answer from the request body (default: first linked hub). */
  reply: (body: Record<string, unknown>, callIndex: number) => WebhookReply;
  close(): Promise<void>;
}

/** A webhook server on 127.0.0.1; every test that starts one closes it. */
export async function startWebhook(): Promise<TestWebhook> {
  const webhook: TestWebhook = {
    url: '',
    calls: [],
    reply: (body) => ({ status: 200, body: { iotHubHostName: (body.linkedHubs as string[])[0] } }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const index = webhook.calls.length;
      webhook.calls.push({ url: req.url ?? '', headers: req.headers, body });
      const answer = webhook.reply(body, index);
      const send = () => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(answer.rawBody ?? (answer.body === undefined ? '' : JSON.stringify(answer.body)));
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  webhook.url = `http://127.0.0.1:${port}/api/allocate?code=secret-function-key`;
  webhook.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return webhook;
}

/** A fresh symmetric key. */
export function testKey(seed: string): string {
  return Buffer.from(`test-key-${seed}`.padEnd(32, '.')).toString('base64');
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** An undici agent that trusts the emulator's certificate. */
export function emulatorDispatcher(emulator: DpsEmulator): Agent {
  return new Agent({ connect: { ca: emulator.caCertificatePem } });
}

/** A service SAS token for the emulator, signed over `resource` as given. */
export function serviceToken(
  key: string,
  policy: string,
  resource: string,
  expiry = Math.floor(Date.now() / 1000) + 3600,
): string {
  return buildSasToken({ resource, keyBase64: key, expiry, keyName: policy });
}

export function ownerKeyOf(emulator: DpsEmulator): string {
  return /SharedAccessKey=([^;]+)/.exec(emulator.serviceConnectionString)![1]!;
}

/** A raw HTTPS call to the emulator (the `authorization` header is the caller's to set). */
export async function rawCall(
  emulator: DpsEmulator,
  dispatcher: Dispatcher,
  method: Dispatcher.HttpMethod,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawResponse> {
  const response = await request(`${emulator.serviceEndpoint}${path}`, {
    method,
    headers: options.headers,
    body: options.body,
    dispatcher,
  });
  const text = await response.body.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.statusCode, headers: response.headers, text, json };
}

/** Authorization header of the owner policy with `sr` = the emulator's `127.0.0.1:PORT` host, URL-encoded. */
export function ownerAuthorization(emulator: DpsEmulator): string {
  return serviceToken(
    ownerKeyOf(emulator),
    'provisioningserviceowner',
    encodeUriComponentStrict(emulator.serviceHostName),
  );
}
