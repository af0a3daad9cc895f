import { MockAgent } from 'undici';
import { DpsClient } from '../../src/dps/client';
import { DpsNotFoundError } from '../../src/dps/errors';
import { connectionStringFor } from './support/clients';
import { FakeClock } from './support/fake-clock';

describe('DpsClient with an injected dispatcher', () => {
  let agent: MockAgent;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });

  afterEach(async () => {
    await agent.close();
  });

  it('sends through the given dispatcher and does not close it', async () => {
    const pool = agent.get('https://mydps.azure-devices-provisioning.net');
    pool
      .intercept({ path: '/registrations/dev-1?api-version=2021-10-01', method: 'GET' })
      .reply(404, { errorCode: 404202, trackingId: 'trk' });
    pool
      .intercept({ path: '/registrations/dev-2?api-version=2021-10-01', method: 'GET' })
      .reply(200, { registrationId: 'dev-2', status: 'failed', errorCode: 400209 });
    const newClient = () =>
      new DpsClient({
        connectionString: connectionStringFor('mydps.azure-devices-provisioning.net'),
        http: { dispatcher: agent },
        clock: new FakeClock(),
      });

    const first = newClient();
    await expect(first.getRegistrationState('dev-1')).rejects.toBeInstanceOf(DpsNotFoundError);
    await first.close();
    const second = newClient(); // the shared dispatcher survived the first client's close
    await expect(second.getRegistrationState('dev-2')).resolves.toMatchObject({ errorCode: 400209 });
    await second.close();
    agent.assertNoPendingInterceptors();
  });
});
