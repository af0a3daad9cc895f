// The scan cursor: the only code that moves the checkpoint's position, through named moves.
import type { Checkpoint } from '../../../src/audit/scan/checkpoint';
import { ScanCursor } from '../../../src/audit/scan/scan-cursor';

const NOW = Date.UTC(2026, 11, 1, 8, 0, 0);
const saved: Checkpoint = {
  scanId: 'scan-1',
  scanStartedAt: new Date(NOW - 60_000),
  phase: 'groups',
  groupKey: 'group-b',
  continuationToken: 'token-b2',
  runs: 2,
};

describe('ScanCursor', () => {
  it('resumes a saved scan in the group and page it stopped at, counting the run', () => {
    const cursor = ScanCursor.resume(saved, NOW);
    expect(cursor.checkpoint()).toEqual({ ...saved, runs: 3 });
    expect(cursor.enterGroup('group-b')).toBe('token-b2');
    expect(saved.runs).toBe(2); // the saved row is not changed behind the lease's back
  });

  it('starts a new scan when there is none or the last one completed', () => {
    for (const last of [undefined, { ...saved, phase: 'done' as const }]) {
      const cursor = ScanCursor.resume(last, NOW);
      expect(cursor.checkpoint()).toEqual({
        scanId: expect.not.stringMatching(/^scan-1$/),
        scanStartedAt: new Date(NOW),
        phase: 'groups',
        runs: 1,
      });
      expect(cursor.describe()).toBe('enrollment groups');
    }
  });

  it('gives a saved token only to the group it was saved in', () => {
    const cursor = ScanCursor.resume(saved, NOW);
    expect(cursor.enterGroup('group-c')).toBeUndefined();
    expect(cursor.checkpoint()).toMatchObject({ groupKey: 'group-c', continuationToken: undefined });
  });

  it('moves through pages, groups and phases, and says where a resumed run goes on', () => {
    const cursor = ScanCursor.resume(saved, NOW);
    cursor.enterGroup('group-b');
    cursor.pagesWritten('token-b3');
    expect(cursor.checkpoint()).toMatchObject({ groupKey: 'group-b', continuationToken: 'token-b3' });
    cursor.restartGroup();
    expect(cursor.resumeToken).toBeUndefined();
    cursor.groupDone('group-c');
    expect(cursor.describe()).toBe('enrollment group group-c');
    cursor.groupsDone();
    expect(cursor.checkpoint()).toMatchObject({ phase: 'individuals', groupKey: undefined });
    expect(cursor.describe()).toBe('individual enrollments');
    cursor.pagesWritten('token-i1');
    expect(cursor.resumeToken).toBe('token-i1');
    cursor.complete();
    expect(cursor.checkpoint()).toMatchObject({ phase: 'done', continuationToken: undefined });
    expect(cursor.describe()).toBeUndefined();
  });

  it('hands out copies: a save in flight never sees a later move', () => {
    const cursor = ScanCursor.resume(saved, NOW);
    const snapshot = cursor.checkpoint();
    cursor.pagesWritten('token-later');
    expect(snapshot.continuationToken).toBe('token-b2');
  });
});
