// The topic's plain-HTTP server on 127.0.0.1: the publish API Event Grid serves (docs/events-contract.md §2.2,
// §2.3) and two dev-only read paths, the SSE stream and the recorded events (README.md). Bodies are read with a
// size limit; every failure is an Event Grid error answer, never a crash or a stack trace. The log says method,
// path and status, never headers, keys or bodies.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody, sendJsonAnswer as send } from '../dps-emulator/server';
import { authorize } from './auth';
import { parseBatch, type BatchLimits } from './batch';
import { TopicErrorCodes, TopicHttpError, topicBadRequest, topicTooLarge } from './errors';
import type { RecordedEvents } from './records';
import type { EventStreams } from './stream';

/** The only publish api-version (the SDK's, docs/events-contract.md §2.2). */
export const EVENT_GRID_API_VERSION = '2018-01-01';
export const TOPIC_PATH = '/api/events';
const STREAM_PATH = `${TOPIC_PATH}/stream`;
const RECORDED_PATH = `${TOPIC_PATH}/recorded`;

export interface TopicServerDeps extends BatchLimits {
  key: string;
  topicName: string;
  records: RecordedEvents;
  streams: EventStreams;
  isAvailable: () => boolean;
  /** Retry-After of the 503 answers while the topic is down. */
  retryAfterSeconds: number;
  /** Largest publish body. Event Grid: 1 MB for the whole array (docs/events-contract.md §2.3). */
  maxBatchBytes: number;
  log: (line: string) => void;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> } | 'streaming';

function errorAnswer(error: TopicHttpError): Exclude<Answer, 'streaming'> {
  return { status: error.status, body: error.toBody(), headers: { ...error.headers } };
}

function methodNotAllowed(method: string, path: string, allowed: string): TopicHttpError {
  return new TopicHttpError(405, TopicErrorCodes.methodNotAllowed, `${method} is not allowed on ${path}`, {
    allow: allowed,
  });
}

async function publish(request: IncomingMessage, url: URL, deps: TopicServerDeps): Promise<Answer> {
  let body: Buffer | undefined;
  try {
    body = await readBody(request, deps.maxBatchBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
  }
  const apiVersion = url.searchParams.get('api-version');
  if (apiVersion !== EVENT_GRID_API_VERSION) {
    throw topicBadRequest(
      apiVersion === null
        ? `The api-version query parameter is required (api-version=${EVENT_GRID_API_VERSION})`
        : `The api-version '${apiVersion.slice(0, 40)}' is not supported; use ${EVENT_GRID_API_VERSION}`,
    );
  }
  if (!deps.isAvailable()) {
    throw new TopicHttpError(
      503,
      TopicErrorCodes.unavailable,
      `The topic '${deps.topicName}' is unavailable`,
      {
        'retry-after': String(deps.retryAfterSeconds),
      },
    );
  }
  authorize(request.headers, url.searchParams, deps.key, TOPIC_PATH, new Date());
  if (body === undefined) {
    throw topicTooLarge(`The batch exceeds ${deps.maxBatchBytes} bytes, the limit of one publish request`);
  }
  const events = parseBatch(body, request.headers['content-type'], deps);
  deps.records.add(events, new Date());
  return { status: 200 };
}

async function route(
  request: IncomingMessage,
  response: ServerResponse,
  deps: TopicServerDeps,
): Promise<Answer> {
  const method = (request.method ?? 'GET').toUpperCase();
  const url = new URL(request.url ?? '/', 'http://topic.invalid');
  const path = url.pathname.replace(/\/+$/, '').toLowerCase();
  if (path === TOPIC_PATH) {
    if (method !== 'POST') throw methodNotAllowed(method, TOPIC_PATH, 'POST');
    return publish(request, url, deps);
  }
  request.resume(); // the read paths take no body
  if (path !== STREAM_PATH && path !== RECORDED_PATH) {
    throw new TopicHttpError(
      404,
      TopicErrorCodes.notFound,
      `No such resource: ${method} ${url.pathname.slice(0, 200)} (the topic is ${TOPIC_PATH})`,
    );
  }
  if (method !== 'GET') throw methodNotAllowed(method, path, 'GET');
  authorize(request.headers, url.searchParams, deps.key, TOPIC_PATH, new Date());
  if (path === RECORDED_PATH) return { status: 200, body: deps.records.all() };
  deps.streams.attach(response, url.searchParams.get('replay') === 'true' ? deps.records.all() : []);
  return 'streaming';
}

export function createTopicServer(deps: TopicServerDeps): http.Server {
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let answer: Answer;
    try {
      answer = await route(request, response, deps);
    } catch (error) {
      if (error instanceof TopicHttpError) answer = errorAnswer(error);
      else {
        deps.log(
          `internal error on ${request.method} ${request.url?.split('?', 1)[0]}: ${(error as Error).message}`,
        );
        answer = errorAnswer(
          new TopicHttpError(500, TopicErrorCodes.serverError, 'Internal error in the Event Grid emulator'),
        );
      }
    }
    const status = answer === 'streaming' ? 'stream' : String(answer.status);
    deps.log(`${request.method ?? 'GET'} ${(request.url ?? '/').split('?', 1)[0]} -> ${status}`);
    if (answer !== 'streaming' && !response.destroyed) send(response, answer);
  };
  return http.createServer((request, response) => {
    handle(request, response).catch((error: Error) => {
      deps.log(`unexpected failure: ${error.message}`);
      if (!response.headersSent) response.writeHead(500).end();
      else response.destroy();
    });
  });
}
