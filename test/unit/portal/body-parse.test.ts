import { expect } from 'chai';
import { DEFAULT_BODY_LIMITS, detectFormat, parsePushBody } from '../../../src/portal/body-parse';
import { expectAppError } from './helpers';

const TEXT_XML = `<xml>
  <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
  <FromUserName><![CDATA[oUser_openid-1]]></FromUserName>
  <CreateTime>1482048670</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[  hello  ]]></Content>
  <MsgId>23237841224789437</MsgId>
</xml>`;

const xmlBody = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('portal/body-parse', () => {
  describe('detectFormat', () => {
    it('lets the body decide over the Content-Type', () => {
      expect(detectFormat(xmlBody('<xml></xml>'), 'application/json')).to.equal('xml');
      expect(detectFormat(xmlBody('{"a":1}'), 'text/xml')).to.equal('json');
      expect(detectFormat(xmlBody('[1]'), 'text/xml')).to.equal('json');
    });

    it('skips whitespace and a UTF-8 byte-order mark', () => {
      expect(detectFormat(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), xmlBody(' \r\n\t{}')]), undefined)).to.equal('json');
      expect(detectFormat('\uFEFF  <xml/>', 'application/json')).to.equal('xml');
    });

    it('falls back on the Content-Type, then on XML', () => {
      expect(detectFormat(xmlBody(''), 'application/json; charset=utf-8')).to.equal('json');
      expect(detectFormat(xmlBody('  '), 'text/xml')).to.equal('xml');
      expect(detectFormat(xmlBody('hello'), undefined)).to.equal('xml');
    });
  });

  it('keeps the default for a limit given as undefined and refuses nonsense limits', () => {
    const deep = Buffer.from(`{${'"a":{'.repeat(9)}${'}'.repeat(9)}}`);
    expectAppError(() => parsePushBody(deep, undefined, { maxDepth: undefined }), 400, 'BODY_TOO_COMPLEX');
    expect(() => parsePushBody(Buffer.from('{}'), undefined, { maxFields: 0 })).to.throw(Error, /maxFields/);
  });

  describe('XML', () => {
    it('parses a text push, CDATA verbatim, every value a string', () => {
      const parsed = parsePushBody(xmlBody(TEXT_XML), 'text/xml', {});
      expect(parsed).to.deep.equal({
        format: 'xml',
        fields: {
          ToUserName: 'gh_123456789abc',
          FromUserName: 'oUser_openid-1',
          CreateTime: '1482048670',
          MsgType: 'text',
          Content: '  hello  ',
          MsgId: '23237841224789437',
        },
      });
    });

    it('keeps every digit of a 64-bit MsgId', () => {
      const { fields } = parsePushBody(xmlBody('<xml><MsgId>9223372036854775807</MsgId><N>007</N></xml>'), undefined);
      expect(fields).to.deep.equal({ MsgId: '9223372036854775807', N: '007' });
    });

    it('accepts an XML declaration and a string body', () => {
      const { fields } = parsePushBody('<?xml version="1.0" encoding="utf-8"?>\n<xml><A>1</A></xml>', undefined);
      expect(fields).to.deep.equal({ A: '1' });
    });

    it('decodes the predefined entities in text, but not in CDATA', () => {
      const { fields } = parsePushBody(xmlBody('<xml><T>a &amp; b &lt;c&gt; &quot;&apos; &#20320;&#x597D; &nbsp;</T><C><![CDATA[&amp;]]></C></xml>'), undefined);
      expect(fields).to.deep.equal({ T: `a & b <c> "' 你好 &nbsp;`, C: '&amp;' });
    });

    it('turns nested elements into records and repeated ones into arrays', () => {
      const { fields } = parsePushBody(xmlBody('<xml><E><List><T>1</T></List><List><T><![CDATA[2]]></T></List></E><O><List><T>x</T></List></O><Empty></Empty><Self/></xml>'), undefined);
      expect(fields).to.deep.equal({ E: { List: [{ T: '1' }, { T: '2' }] }, O: { List: { T: 'x' } }, Empty: '', Self: '' });
    });

    it('keeps "<!DOCTYPE" inside CDATA: it is just a user\'s text', () => {
      const { fields } = parsePushBody(xmlBody('<xml><Content><![CDATA[<!DOCTYPE html><!ENTITY x "y">]]></Content></xml>'), undefined);
      expect(fields).to.deep.equal({ Content: '<!DOCTYPE html><!ENTITY x "y">' });
    });

    it('rejects DOCTYPE and ENTITY declarations -> 400 XML_FORBIDDEN', () => {
      const bodies = [
        '<!DOCTYPE xml><xml><A>1</A></xml>',
        '<?xml version="1.0"?><!doctype xml><xml/>',
        '<xml><!ENTITY x "y"><A>1</A></xml>',
        '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><A>&xxe;</A></xml>',
        // A quote in an attribute cannot hide a declaration from the pre-scan.
        '<xml a="<![CDATA["><!DOCTYPE x [<!ENTITY e "x">]><A>&e;</A></xml>',
      ];
      for (const body of bodies) expectAppError(() => parsePushBody(xmlBody(body), undefined), 400, 'XML_FORBIDDEN');
    });

    it('rejects a billion-laughs body at once', () => {
      const lol = [
        '<?xml version="1.0"?>',
        '<!DOCTYPE lolz [',
        ' <!ENTITY lol "lol">',
        ...Array.from({ length: 9 }, (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
        ']>',
        '<xml><Content>&lol9;</Content></xml>',
      ].join('\n');
      const started = Date.now();
      expectAppError(() => parsePushBody(xmlBody(lol), 'text/xml'), 400, 'XML_FORBIDDEN');
      expect(Date.now() - started).to.be.below(100);
    });

    it('rejects deep nesting -> 400 BODY_TOO_COMPLEX, also when absurdly deep', () => {
      const nest = (n: number): string => `<xml>${'<a>'.repeat(n)}x${'</a>'.repeat(n)}</xml>`;
      // maxDepth counts the root: 8 = <xml> + 7 levels.
      expect(() => parsePushBody(xmlBody(nest(DEFAULT_BODY_LIMITS.maxDepth - 1)), undefined)).to.not.throw();
      expectAppError(() => parsePushBody(xmlBody(nest(DEFAULT_BODY_LIMITS.maxDepth)), undefined), 400, 'BODY_TOO_COMPLEX');
      expectAppError(() => parsePushBody(xmlBody(nest(100_000)), undefined), 400, 'BODY_TOO_COMPLEX');
      expectAppError(() => parsePushBody(xmlBody(nest(3)), undefined, { maxDepth: 3 }), 400, 'BODY_TOO_COMPLEX');
    });

    it('rejects too many fields -> 400 BODY_TOO_COMPLEX', () => {
      const fields = (n: number): string => `<xml>${'<F>1</F>'.repeat(n)}</xml>`;
      expect(parsePushBody(xmlBody(fields(200)), undefined).fields.F).to.have.length(200);
      const err = expectAppError(() => parsePushBody(xmlBody(fields(201)), undefined), 400, 'BODY_TOO_COMPLEX');
      expect(err.details).to.deep.equal({ limit: 'maxFields', value: 201 });
      expectAppError(() => parsePushBody(xmlBody(fields(6)), undefined, { maxFields: 5 }), 400, 'BODY_TOO_COMPLEX');
    });

    it('rejects an overlong field value -> 400 BODY_TOO_COMPLEX', () => {
      const body = xmlBody(`<xml><Content><![CDATA[${'x'.repeat(101)}]]></Content></xml>`);
      expect(() => parsePushBody(body, undefined, { maxStringLength: 101 })).to.not.throw();
      expectAppError(() => parsePushBody(body, undefined, { maxStringLength: 100 }), 400, 'BODY_TOO_COMPLEX');
    });

    it('rejects malformed XML -> 400 MALFORMED_BODY', () => {
      const bodies = [
        '<xml><A>1</A>', // unclosed
        '<xml><A>1</B></xml>', // mismatched
        '<xml><A>1</A></xml>trailing', // junk after the root
        '<xml></xml><xml></xml>', // two roots
        '<root><A>1</A></root>', // wrong root
        '<xml><A><![CDATA[1</A></xml>', // unterminated CDATA
        '<xml><A', // unterminated tag
        '<xml><__proto__>1</__proto__></xml>',
        'not xml at all',
        '   ',
        '',
      ];
      for (const body of bodies) expectAppError(() => parsePushBody(xmlBody(body), 'text/xml'), 400, 'MALFORMED_BODY');
    });

    it('rejects a body that is not UTF-8 -> 400 MALFORMED_BODY', () => {
      const body = Buffer.concat([xmlBody('<xml><A>'), Buffer.from([0xff, 0xfe]), xmlBody('</A></xml>')]);
      expectAppError(() => parsePushBody(body, undefined), 400, 'MALFORMED_BODY');
    });

    it('reads the encrypted envelope', () => {
      const { fields } = parsePushBody(xmlBody('<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Encrypt><![CDATA[abc+/==]]></Encrypt></xml>'), undefined);
      expect(fields).to.deep.equal({ ToUserName: 'gh_1', Encrypt: 'abc+/==' });
    });
  });

  describe('JSON', () => {
    it('keeps every digit of MsgId sent as a JSON number', () => {
      const body = '{"ToUserName":"gh_1","MsgId": 23237841224789437,"CreateTime":1482048670}';
      // What plain JSON.parse would do: the last digit is lost.
      expect(String((JSON.parse(body) as { MsgId: number }).MsgId)).to.equal('23237841224789436');
      const { format, fields } = parsePushBody(xmlBody(body), 'application/json');
      expect(format).to.equal('json');
      expect(fields).to.deep.equal({ ToUserName: 'gh_1', MsgId: '23237841224789437', CreateTime: 1482048670 });
    });

    it('keeps big integers anywhere (nested, negative), but leaves strings and other numbers alone', () => {
      const body =
        '{"List":[{"MsgID":1700827132819554304,"ErrorCode":0}],"Neg":-9007199254740993,"Safe":9007199254740991,' +
        '"F":1.5,"E":1e30,"S":"23237841224789437 \\" 12345678901234567890","T":true,"N":null}';
      const { fields } = parsePushBody(xmlBody(body), undefined);
      expect(fields).to.deep.equal({
        List: [{ MsgID: '1700827132819554304', ErrorCode: 0 }],
        Neg: '-9007199254740993',
        Safe: 9007199254740991,
        F: 1.5,
        E: 1e30,
        S: '23237841224789437 " 12345678901234567890',
        T: true,
        N: null,
      });
    });

    it('accepts List as an object or as an array (normalise makes both arrays)', () => {
      const one = parsePushBody(xmlBody('{"List":{"TemplateId":"t1"}}'), undefined).fields;
      const two = parsePushBody(xmlBody('{"List":[{"TemplateId":"t1"},{"TemplateId":"t2"}]}'), undefined).fields;
      expect(one.List).to.deep.equal({ TemplateId: 't1' });
      expect(two.List).to.deep.equal([{ TemplateId: 't1' }, { TemplateId: 't2' }]);
    });

    it('rejects malformed JSON and non-objects -> 400 MALFORMED_BODY', () => {
      for (const body of ['{"a":', '{"a":1}x', '[]', '[{"a":1}]', '"text"', '42', 'null', '{"__proto__":{"x":1}}']) {
        expectAppError(() => parsePushBody(xmlBody(body), 'application/json'), 400, 'MALFORMED_BODY');
      }
    });

    it('rejects deep nesting and too many fields -> 400 BODY_TOO_COMPLEX', () => {
      const nest = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
      expect(() => parsePushBody(xmlBody(nest(8)), undefined)).to.not.throw();
      expectAppError(() => parsePushBody(xmlBody(nest(9)), undefined), 400, 'BODY_TOO_COMPLEX');
      expectAppError(() => parsePushBody(xmlBody(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), undefined), 400, 'BODY_TOO_COMPLEX');
      const many = `{${Array.from({ length: 201 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
      expectAppError(() => parsePushBody(xmlBody(many), undefined), 400, 'BODY_TOO_COMPLEX');
      const bigArray = `{"List":[${Array.from({ length: 201 }, () => '1').join(',')}]}`;
      expectAppError(() => parsePushBody(xmlBody(bigArray), undefined), 400, 'BODY_TOO_COMPLEX');
    });

    it('rejects an overlong string or key -> 400 BODY_TOO_COMPLEX', () => {
      expectAppError(() => parsePushBody(xmlBody(`{"a":"${'x'.repeat(11)}"}`), undefined, { maxStringLength: 10 }), 400, 'BODY_TOO_COMPLEX');
      expectAppError(() => parsePushBody(xmlBody(`{"${'k'.repeat(11)}":1}`), undefined, { maxStringLength: 10 }), 400, 'BODY_TOO_COMPLEX');
    });
  });
  describe('the flat fast path', () => {
    // A comment before the root is valid XML that the fast path never takes, so the same document
    // with one goes through the full parser: both must give the same fields or the same error.
    const viaFullParser = (xml: string) => '<!-- full -->' + xml;
    const outcome = (xml: string): string => {
      try {
        return JSON.stringify(parsePushBody(xmlBody(xml), 'text/xml').fields);
      } catch (err) {
        return `error ${(err as { code?: string }).code}`;
      }
    };

    it('gives what the full parser gives, on flat documents with awkward names and values', () => {
      const values = ['', ' ', 'a', ' 1 ', '\t', '\n x \n', '\r\n', 'a\rb', '<', '>', '&', '&amp;', '&#x41;', '&bogus;', ']]>', ']]', '"', "'", '\u3000中\u00a0', '😀', '<!DOCTYPE x>', '/'];
      const names = ['A', 'b', '_x', 'A.b', 'a-b', 'xml', '__proto__', '__a', '1a', 'ToUserName', 'a:b', '.a', 'N'.repeat(128), 'N'.repeat(129), 'é'];
      let seed = 7;
      const rnd = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % n;
      };
      const value = () => Array.from({ length: rnd(4) }, () => values[rnd(values.length)]).join('');
      for (let k = 0; k < 3000; k++) {
        let xml = rnd(4) === 0 ? ' \n<xml>' : '<xml>';
        for (let f = rnd(5); f > 0; f--) {
          const name = names[rnd(names.length)]!;
          const close = rnd(12) === 0 ? names[rnd(names.length)]! : name;
          xml += `${rnd(3) === 0 ? '\n  ' : ''}<${name}>${rnd(2) ? `<![CDATA[${value()}]]>` : value()}</${close}>`;
        }
        xml += rnd(3) === 0 ? ' </xml>\n' : '</xml>';
        expect(outcome(xml), xml).to.equal(outcome(viaFullParser(xml)));
      }
    });

    it('keeps the limits: too many fields or too long a value are refused as by the full parser', () => {
      const many = `<xml>${Array.from({ length: DEFAULT_BODY_LIMITS.maxFields + 1 }, (_, i) => `<F${i}>1</F${i}>`).join('')}</xml>`;
      expect(outcome(many)).to.equal('error BODY_TOO_COMPLEX');
      const long = `<xml><A><![CDATA[${'x'.repeat(DEFAULT_BODY_LIMITS.maxStringLength + 1)}]]></A></xml>`;
      expect(outcome(long)).to.equal('error BODY_TOO_COMPLEX');
    });
  });
});
