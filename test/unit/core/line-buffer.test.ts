import { expect } from 'chai';
import { LineBuffer } from '../../../src/kernel/log';

describe('kernel/log LineBuffer (the access log on standard output)', () => {
  it('writes whole lines, joined, once they reach the threshold, and the rest on flush', () => {
    const writes: string[] = [];
    const b = new LineBuffer({ write: (s: string) => void writes.push(s) }, 20);
    b.write('{"a":1}\n');
    b.write('{"b":2}\n');
    expect(writes).to.deep.equal([]);
    b.write('{"c":3}\n');
    expect(writes).to.deep.equal(['{"a":1}\n{"b":2}\n{"c":3}\n']);
    b.write('{"d":4}\n');
    b.flush();
    b.flush();
    expect(writes).to.deep.equal(['{"a":1}\n{"b":2}\n{"c":3}\n', '{"d":4}\n']);
  });

  it('does not throw when standard output is gone', () => {
    const b = new LineBuffer(
      {
        write: () => {
          throw Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        },
      },
      1,
    );
    expect(() => b.write('x\n')).not.to.throw();
  });
});
