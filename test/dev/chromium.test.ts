// Finding (and on a clean CI container, installing) the Chromium the dashboard test drives: CHROMIUM_PATH wins,
// a present binary is used as it is, a missing one is installed with apt-get when running as root, and otherwise
// the error says what to install. apt-get is a stand-in script here, so nothing on the machine changes.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM_MISSING, ensureChromium } from '../../dev/chromium';

let dir: string;
let chromiumPath: string;
let aptGet: string;
let aptLog: string;

async function executable(file: string, text: string): Promise<void> {
  await writeFile(file, text);
  await chmod(file, 0o755);
}

/** An apt-get that records its arguments and DEBIAN_FRONTEND, and "installs" chromium (or fails). */
async function fakeAptGet(fail = false): Promise<void> {
  await executable(
    aptGet,
    [
      '#!/bin/sh',
      `echo "$DEBIAN_FRONTEND $*" >> "${aptLog}"`,
      fail ? 'echo "E: Unable to locate package chromium" >&2; exit 100' : '',
      `if [ "$1" = install ]; then printf '#!/bin/sh\\n' > "${chromiumPath}"; chmod 755 "${chromiumPath}"; fi`,
    ].join('\n'),
  );
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'chromium-test-'));
  chromiumPath = path.join(dir, 'chromium');
  aptGet = path.join(dir, 'apt-get');
  aptLog = path.join(dir, 'apt.log');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ensureChromium', () => {
  it('uses CHROMIUM_PATH, or the installed binary, without installing anything', async () => {
    await fakeAptGet();
    await executable(chromiumPath, '#!/bin/sh\n');
    await expect(ensureChromium({ env: {}, chromiumPath, aptGet, isRoot: true })).resolves.toBe(chromiumPath);
    const other = path.join(dir, 'chrome');
    await executable(other, '#!/bin/sh\n');
    await expect(
      ensureChromium({ env: { CHROMIUM_PATH: other }, chromiumPath, aptGet, isRoot: true }),
    ).resolves.toBe(other);
    await expect(
      ensureChromium({ env: { CHROMIUM_PATH: path.join(dir, 'nothing') }, chromiumPath, aptGet }),
    ).rejects.toThrow(/CHROMIUM_PATH=.*nothing is not an executable file/);
    await expect(readFile(aptLog, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('installs the chromium package with apt-get when running as root', async () => {
    await fakeAptGet();
    const lines: string[] = [];
    await expect(
      ensureChromium({ env: {}, chromiumPath, aptGet, isRoot: true, log: (line) => lines.push(line) }),
    ).resolves.toBe(chromiumPath);
    expect((await readFile(aptLog, 'utf8')).trim().split('\n')).toEqual([
      'noninteractive update',
      'noninteractive install -y --no-install-recommends chromium',
    ]);
    expect(lines).toEqual([expect.stringMatching(/apt-get install -y chromium/)]);
  });

  it('says what to install when it cannot install it', async () => {
    await fakeAptGet();
    await expect(ensureChromium({ env: {}, chromiumPath, aptGet, isRoot: false })).rejects.toThrow(
      CHROMIUM_MISSING,
    );
    await expect(
      ensureChromium({ env: {}, chromiumPath, aptGet: path.join(dir, 'no-apt'), isRoot: true }),
    ).rejects.toThrow(CHROMIUM_MISSING);
    await fakeAptGet(true);
    await expect(ensureChromium({ env: {}, chromiumPath, aptGet, isRoot: true })).rejects.toThrow(
      /apt-get failed:\nE: Unable to locate package chromium/,
    );
  });
});
