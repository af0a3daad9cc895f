import {
  DpsError,
  DpsNotFoundError,
  DpsThrottledError,
  DpsTransientError,
  errorFromResponse,
} from '../../src/dps/errors';

const response = (status: number, body: unknown, headers: Record<string, string> = {}) => ({
  status,
  headers,
  bodyText: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('errorFromResponse', () => {
  it('reads errorCode, trackingId and message from the DPS error body', () => {
    const error = errorFromResponse(
      'getEnrollmentGroup',
      response(404, { errorCode: 404201, trackingId: 'trk', message: 'Enrollment not found' }),
      undefined,
    );
    expect(error).toBeInstanceOf(DpsNotFoundError);
    expect(error).toMatchObject({ status: 404, errorCode: 404201, trackingId: 'trk', retryable: false });
    expect(error.message).toBe(
      'DPS getEnrollmentGroup failed (HTTP 404, errorCode 404201, trackingId trk): Enrollment not found',
    );
    expect(error.name).toBe('DpsNotFoundError');
  });

  it('accepts `code` instead of `errorCode`, as a number or a numeric string', () => {
    expect(errorFromResponse('op', response(400, { code: 400004 }), undefined).errorCode).toBe(400004);
    expect(errorFromResponse('op', response(400, { code: '400004' }), undefined).errorCode).toBe(400004);
    expect(errorFromResponse('op', response(400, { code: 'InvalidArgument' }), undefined).errorCode).toBe(
      'InvalidArgument',
    );
  });

  it('marks 429 and 5xx retryable and keeps the Retry-After wait', () => {
    const throttled = errorFromResponse('op', response(429, ''), 2000);
    expect(throttled).toBeInstanceOf(DpsThrottledError);
    expect(throttled).toMatchObject({ retryable: true, retryAfterMs: 2000 });
    expect(errorFromResponse('op', response(502, '<html>bad gateway</html>'), undefined)).toBeInstanceOf(
      DpsTransientError,
    );
  });

  it('gives other statuses the base class', () => {
    const error = errorFromResponse('op', response(409, { errorCode: 409001 }), undefined);
    expect(error.constructor).toBe(DpsError);
    expect(error.retryable).toBe(false);
  });

  it('masks secrets the service echoes in its message', () => {
    const error = errorFromResponse(
      'op',
      response(400, { errorCode: 400004, message: 'bad webhookUrl https://f.net/a?code=FUNCKEY' }),
      undefined,
    );
    expect(error.message).not.toContain('FUNCKEY');
  });
});
