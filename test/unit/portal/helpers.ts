import { expect } from 'chai';
import { AppError } from '../../../src/kernel/errors';

/** Runs `fn`, expecting an AppError with this status and code; returns it for further checks. */
export function expectAppError(fn: () => unknown, status: number, code: string): AppError {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected AppError ${code}`).to.be.instanceOf(AppError);
  const err = thrown as AppError;
  expect(err.code, err.message).to.equal(code);
  expect(err.status).to.equal(status);
  return err;
}

/** The WXBizMsgCrypt sample configuration published with WeChat's SDK samples. */
export const SAMPLE = {
  token: 'pamtest',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  appid: 'wxb11529c136998cb6',
  randomPrefix: 'aaaabbbbccccdddd',
  message: '我是中文abcd123',
  encrypt: 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==',
  timestamp: '1409304348',
  nonce: 'xxxxxx',
} as const;
