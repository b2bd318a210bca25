import { expect } from 'chai';
import { parsePushBody } from '../../../src/portal/body-parse';
import { aesKeyFromEncodingKey, encryptMessage, openPush } from '../../../src/protocol/msg-crypto';
import { buildPassiveReply, cdata, encryptReply } from '../../../src/portal/reply';
import { msgSignature, verifySignature } from '../../../src/protocol/signature';
import { SAMPLE } from './helpers';

const push = { toUser: 'gh_abc', fromUser: 'oUser1' };
const key = aesKeyFromEncodingKey(SAMPLE.encodingAESKey);

describe('portal/reply', () => {
  describe('buildPassiveReply', () => {
    it('text reply in XML, users swapped', () => {
      expect(buildPassiveReply(push, { type: 'text', content: '你好' }, 'xml', 1482048670)).to.equal(
        '<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>' +
          '<CreateTime>1482048670</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content></xml>',
      );
    });

    it('image and transfer_customer_service in XML', () => {
      expect(buildPassiveReply(push, { type: 'image', mediaId: 'M1' }, 'xml', 1)).to.equal(
        '<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>' +
          '<CreateTime>1</CreateTime><MsgType><![CDATA[image]]></MsgType><Image><MediaId><![CDATA[M1]]></MediaId></Image></xml>',
      );
      expect(buildPassiveReply(push, { type: 'transfer_customer_service' }, 'xml', 1)).to.equal(
        '<xml><ToUserName><![CDATA[oUser1]]></ToUserName><FromUserName><![CDATA[gh_abc]]></FromUserName>' +
          '<CreateTime>1</CreateTime><MsgType><![CDATA[transfer_customer_service]]></MsgType></xml>',
      );
    });

    it('the same replies in JSON with the same field names', () => {
      expect(JSON.parse(buildPassiveReply(push, { type: 'text', content: 'hi' }, 'json', 5))).to.deep.equal({
        ToUserName: 'oUser1',
        FromUserName: 'gh_abc',
        CreateTime: 5,
        MsgType: 'text',
        Content: 'hi',
      });
      expect(JSON.parse(buildPassiveReply(push, { type: 'image', mediaId: 'M1' }, 'json', 5))).to.deep.include({ MsgType: 'image', Image: { MediaId: 'M1' } });
      expect(JSON.parse(buildPassiveReply(push, { type: 'transfer_customer_service' }, 'json', 5))).to.deep.equal({
        ToUserName: 'oUser1',
        FromUserName: 'gh_abc',
        CreateTime: 5,
        MsgType: 'transfer_customer_service',
      });
    });

    it('parses back to the same fields in both formats', () => {
      for (const format of ['xml', 'json'] as const) {
        const { fields } = parsePushBody(buildPassiveReply(push, { type: 'text', content: 'a & <b>' }, format, 7), undefined);
        expect(fields).to.deep.include({ ToUserName: 'oUser1', FromUserName: 'gh_abc', MsgType: 'text', Content: 'a & <b>' });
      }
    });

    it('refuses a millisecond timestamp', () => {
      expect(() => buildPassiveReply(push, { type: 'transfer_customer_service' }, 'xml', 1482048670000)).to.throw(Error, /seconds/);
      expect(() => buildPassiveReply(push, { type: 'transfer_customer_service' }, 'xml', 1.5)).to.throw(Error, /seconds/);
    });
  });

  describe('CDATA safety', () => {
    it('splits "]]>" so it cannot close the section', () => {
      expect(cdata('a]]>b')).to.equal('<![CDATA[a]]]]><![CDATA[>b]]>');
    });

    it('round-trips hostile content through the XML parser', () => {
      for (const content of ['a]]>b', ']]>', ']]>]]>', ']]]>>', '</Content></xml><xml>', '<![CDATA[x]]>', 'end]]']) {
        const xml = buildPassiveReply(push, { type: 'text', content }, 'xml', 1);
        const { fields } = parsePushBody(xml, undefined);
        expect(fields.Content, content).to.equal(content);
        expect(Object.keys(fields)).to.deep.equal(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content']);
      }
    });

    it('drops characters XML cannot carry', () => {
      expect(cdata('a\u0000b\u0007c\td\ud800e\uFFFF😀')).to.equal('<![CDATA[abc\tde😀]]>');
    });
  });

  describe('encryptReply', () => {
    const plain = buildPassiveReply(push, { type: 'text', content: '收到 ]]> ok' }, 'xml', 1409304348);

    it('XML envelope: MsgSignature verifies and Encrypt opens to the plain reply', () => {
      const envelope = encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'xml', 1409304348, 'nonce123');
      expect(envelope).to.match(
        /^<xml><Encrypt><!\[CDATA\[[A-Za-z0-9+/=]+\]\]><\/Encrypt><MsgSignature><!\[CDATA\[[0-9a-f]{40}\]\]><\/MsgSignature><TimeStamp>1409304348<\/TimeStamp><Nonce><!\[CDATA\[nonce123\]\]><\/Nonce><\/xml>$/,
      );
      const { format, fields } = parsePushBody(envelope, undefined);
      expect(format).to.equal('xml');
      const { Encrypt, MsgSignature, TimeStamp, Nonce } = fields as Record<string, string>;
      expect(TimeStamp).to.equal('1409304348');
      expect(verifySignature(msgSignature(SAMPLE.token, TimeStamp, Nonce, Encrypt), MsgSignature)).to.equal(true);
      expect(verifySignature(msgSignature('other-token', TimeStamp, Nonce, Encrypt), MsgSignature)).to.equal(false);
      const opened = openPush(key, SAMPLE.appid, Encrypt);
      expect(opened).to.equal(plain);
      expect(parsePushBody(opened, undefined).fields.Content).to.equal('收到 ]]> ok');
    });

    it('JSON envelope with a numeric TimeStamp', () => {
      const envelope = JSON.parse(encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'json', 1409304348, 'n1')) as Record<string, unknown>;
      expect(Object.keys(envelope)).to.deep.equal(['Encrypt', 'MsgSignature', 'TimeStamp', 'Nonce']);
      expect(envelope.TimeStamp).to.equal(1409304348);
      expect(envelope.Nonce).to.equal('n1');
      const encrypt = envelope.Encrypt as string;
      expect(envelope.MsgSignature).to.equal(msgSignature(SAMPLE.token, '1409304348', 'n1', encrypt));
      expect(openPush(key, SAMPLE.appid, encrypt)).to.equal(plain);
    });

    it('is reproducible with a fixed random prefix and uses a fresh one otherwise', () => {
      const prefix = Buffer.from(SAMPLE.randomPrefix);
      const fixed = JSON.parse(encryptReply(key, SAMPLE.token, SAMPLE.appid, SAMPLE.message, 'json', 1409304348, SAMPLE.nonce, prefix)) as Record<string, unknown>;
      expect(fixed.Encrypt).to.equal(SAMPLE.encrypt);
      expect(fixed.Encrypt).to.equal(encryptMessage(key, SAMPLE.appid, SAMPLE.message, prefix));
      // printf '%s' "1409304348${ENCRYPT}pamtestxxxxxx" | sha1sum
      expect(fixed.MsgSignature).to.equal('82c962d39941aa48552f90ef55aa323dc620cc10');
      const a = encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'xml', 1, 'n');
      const b = encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'xml', 1, 'n');
      expect(a).to.not.equal(b);
    });

    it('refuses a millisecond timestamp and an empty nonce', () => {
      expect(() => encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'xml', Date.now(), 'n')).to.throw(Error, /seconds/);
      expect(() => encryptReply(key, SAMPLE.token, SAMPLE.appid, plain, 'xml', 1, '')).to.throw(Error, /nonce/);
    });
  });
});
