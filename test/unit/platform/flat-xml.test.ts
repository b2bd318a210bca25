import { expect } from 'chai';
import { FlatXmlError, parseFlatXml, type FlatXmlProblem } from '../../../src/protocol/flat-xml';

function refused(xml: string, problem: FlatXmlProblem, limits?: { maxFields?: number; maxValue?: number }): FlatXmlError {
  let thrown: unknown;
  try {
    parseFlatXml(xml, limits);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, xml.slice(0, 80)).to.be.instanceOf(FlatXmlError);
  expect((thrown as FlatXmlError).problem, (thrown as FlatXmlError).message).to.equal(problem);
  return thrown as FlatXmlError;
}

describe('flat XML (platform events)', () => {
  it('reads CDATA and plain values, the XML declaration, whitespace and the five predefined entities', () => {
    const f = parseFlatXml(
      `<?xml version="1.0" encoding="utf-8"?>\n<xml>\n  <AppId><![CDATA[wx0123456789abcdef]]></AppId>\n  <CreateTime>1700000000</CreateTime>\n  <Note>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;</Note>\n  <Empty></Empty><Cdata><![CDATA[<not>&markup;]]></Cdata>\n</xml>\n`,
    );
    expect({ ...f }).to.deep.equal({ AppId: 'wx0123456789abcdef', CreateTime: '1700000000', Note: `a <b> & "c" 'd'`, Empty: '', Cdata: '<not>&markup;' });
    expect(Object.getPrototypeOf(f)).to.equal(null);
  });

  it('names that look like Object members are plain fields', () => {
    const f = parseFlatXml('<xml><constructor>x</constructor><toString>y</toString><hasOwnProperty>z</hasOwnProperty></xml>');
    expect(f.constructor).to.equal('x');
    expect(f.toString).to.equal('y');
    expect(refused('<xml><__proto__>x</__proto__></xml>', 'malformed').message).to.match(/flat/);
  });

  it('refuses DOCTYPE, ENTITY, external entities and processing instructions (forbidden)', () => {
    for (const xml of [
      '<!DOCTYPE xml [<!ENTITY e "x">]><xml><A>&e;</A></xml>',
      '<?xml version="1.0"?><!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><A>x</A></xml>',
      '<!doctype xml><xml><A>x</A></xml>',
      '<xml><!ENTITY e "x"><A>x</A></xml>',
      '<?xml-stylesheet href="http://127.0.0.1/x.xsl"?><xml><A>x</A></xml>',
      '<?xml version="1.0"?><?evil x?><xml><A>x</A></xml>',
      '<xml><A>x</A><?pi?></xml>',
      '<xml><A>&e;</A></xml>',
      '<xml><A>&#x41;</A></xml>',
      '<xml><A>&#65;</A></xml>',
      '<xml><A>a & b</A></xml>',
      '<xml><A>&amp</A></xml>',
    ])
      refused(xml, 'forbidden');
  });

  it('refuses nesting, attributes, mismatched or unclosed tags, comments, text outside fields and other roots (malformed)', () => {
    for (const xml of [
      '',
      'not xml',
      '<xml>',
      '<xml></xmlx>',
      '<root><A>x</A></root>',
      '<xml><A><B>x</B></A></xml>',
      '<xml><A x="1">x</A></xml>',
      '<xml><A>x</B></xml>',
      '<xml><A>x</xml>',
      '<xml><A>x</A>stray</xml>',
      '<xml><!-- c --><A>x</A></xml>',
      '<xml><A>x</A></xml><xml><A>y</A></xml>',
      '<xml><1A>x</1A></xml>',
      '<xml><A:B>x</A:B></xml>',
      `<xml><${'A'.repeat(65)}>x</${'A'.repeat(65)}></xml>`,
    ])
      refused(xml, 'malformed');
  });

  it('CDATA tricks: text around a section, two sections, `]]>` inside, an unclosed section', () => {
    for (const xml of [
      '<xml><A><![CDATA[x]]>tail</A></xml>',
      '<xml><A>head<![CDATA[x]]></A></xml>',
      '<xml><A><![CDATA[a]]><![CDATA[b]]></A></xml>',
      '<xml><A><![CDATA[a]]>]]></A></xml>',
      '<xml><A><![CDATA[a</A></xml>',
      '<xml><A><![CDATA[a]]></A><B><![CDATA[</B></xml>',
    ])
      refused(xml, 'malformed');
  });

  it('refuses a duplicated field, even with another spelling of the same value', () => {
    expect(refused('<xml><Encrypt>AAAA</Encrypt><Encrypt>BBBB</Encrypt></xml>', 'malformed').message).to.match(/Encrypt given twice/);
    refused('<xml><Encrypt>AAAA</Encrypt><Encrypt><![CDATA[AAAA]]></Encrypt></xml>', 'malformed');
  });

  it('too long a field or too many fields (too-complex); the message names the field, never its value', () => {
    const huge = 'S'.repeat(8193);
    const err = refused(`<xml><Encrypt>${huge}</Encrypt></xml>`, 'too-complex');
    expect(err.message).to.equal('Encrypt is too long').and.not.contain('SSSS');
    refused(`<xml><Encrypt><![CDATA[${huge}]]></Encrypt></xml>`, 'too-complex');
    expect(parseFlatXml(`<xml><A>${'x'.repeat(8192)}</A></xml>`).A).to.have.length(8192);
    const many = (n: number) => `<xml>${Array.from({ length: n }, (_, i) => `<F${i}>v</F${i}>`).join('')}</xml>`;
    expect(Object.keys(parseFlatXml(many(64)))).to.have.length(64);
    refused(many(65), 'too-complex');
    refused('<xml><A>12345</A></xml>', 'too-complex', { maxValue: 4 });
  });

  it('a pathological body (64 KiB of an unclosed CDATA, or of open tags) is refused quickly', () => {
    const started = Date.now();
    refused(`<xml><A><![CDATA[${'x'.repeat(64 * 1024)}</xml>`, 'malformed');
    refused(`<xml>${'<A>'.repeat(20_000)}</xml>`, 'malformed');
    refused(`<xml><A>${'<![CDATA['.repeat(7000)}</A></xml>`, 'malformed');
    expect(Date.now() - started).to.be.below(500);
  });
});
