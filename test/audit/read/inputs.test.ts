// The audit's own filter values, for its HTTP API and CLI: ids that fit a table key, and DPS error codes.
import { errorCodeInput, idInput } from '../../../src/audit/read/inputs';

describe('ids and error codes', () => {
  it('accepts any id that fits a table key, hostile ones included', () => {
    expect(idInput.parse("x' or PartitionKey ne '")).toBe("x' or PartitionKey ne '");
    expect(idInput.safeParse('').success).toBe(false);
    expect(idInput.safeParse('é'.repeat(200)).error?.issues[0]?.message).toBe('is too long to be a DPS id');
  });

  it('takes whole numbers only', () => {
    expect(errorCodeInput.parse('400209')).toBe(400209);
    for (const text of ['4e5', '-1', '1.0', ' 1', '0x10', '1234567890']) {
      expect({ text, ok: errorCodeInput.safeParse(text).success }).toEqual({ text, ok: false });
    }
  });
});
