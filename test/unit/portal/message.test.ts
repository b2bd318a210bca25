import { expect } from 'chai';
import { parsePushBody } from '../../../src/portal/body-parse';
import { dedupKey, normalise } from '../../../src/portal/message';
import { expectAppError } from './helpers';

const APPID = 'wx1234567890abcdef';
const fromXml = (xml: string) => normalise(parsePushBody(Buffer.from(xml), 'text/xml').fields, APPID);
const fromJson = (json: string) => normalise(parsePushBody(Buffer.from(json), 'application/json').fields, APPID);

const head = (type: string) =>
  `<ToUserName><![CDATA[gh_abc]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>` + `<CreateTime>1610969440</CreateTime><MsgType><![CDATA[${type}]]></MsgType>`;

describe('portal/message', () => {
  describe('normalise', () => {
    it('maps a text message, keeping MsgId exact and every field in raw', () => {
      const msg = fromXml(`<xml>${head('text')}<Content><![CDATA[你好]]></Content><MsgId>23237841224789437</MsgId><NewField>x</NewField></xml>`);
      expect(msg).to.deep.include({
        appid: APPID,
        toUser: 'gh_abc',
        fromUser: 'oUser1',
        createTime: 1610969440,
        msgType: 'text',
        msgId: '23237841224789437',
        content: '你好',
      });
      expect(msg.raw.NewField).to.equal('x');
      expect(msg).to.not.have.property('event');
    });

    it('keeps MsgId exact from a JSON number too', () => {
      const msg = fromJson('{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1610969440,"MsgType":"text","Content":"hi","MsgId":23237841224789437}');
      expect(msg.msgId).to.equal('23237841224789437');
    });

    it('accepts CreateTime as a string or a number', () => {
      const base = { ToUserName: 'gh_abc', FromUserName: 'oUser1', MsgType: 'text' };
      expect(normalise({ ...base, CreateTime: '1620973045' }, APPID).createTime).to.equal(1620973045);
      expect(normalise({ ...base, CreateTime: ' 1620973045 ' }, APPID).createTime).to.equal(1620973045);
      expect(normalise({ ...base, CreateTime: 1620973045 }, APPID).createTime).to.equal(1620973045);
    });

    it('rejects a bad CreateTime -> 400 MALFORMED_MESSAGE', () => {
      const base = { ToUserName: 'gh_abc', FromUserName: 'oUser1', MsgType: 'text' };
      for (const bad of ['abc', '', '-5', '1.5', 1.5, -1, { x: 1 }, null]) {
        expectAppError(() => normalise({ ...base, CreateTime: bad }, APPID), 400, 'MALFORMED_MESSAGE');
      }
    });

    it('requires ToUserName, FromUserName, CreateTime and MsgType -> 400 MALFORMED_MESSAGE', () => {
      const full: Record<string, unknown> = { ToUserName: 'gh_abc', FromUserName: 'oUser1', CreateTime: '1', MsgType: 'text' };
      for (const field of Object.keys(full)) {
        const fields = { ...full };
        delete fields[field];
        const err = expectAppError(() => normalise(fields, APPID), 400, 'MALFORMED_MESSAGE');
        expect(err.details).to.deep.equal({ field });
        expectAppError(() => normalise({ ...full, [field]: field === 'CreateTime' ? 'x' : '' }, APPID), 400, 'MALFORMED_MESSAGE');
        expectAppError(() => normalise({ ...full, [field]: { nested: 'x' } }, APPID), 400, 'MALFORMED_MESSAGE');
      }
    });

    it('maps image, voice, video, location, link and miniprogrampage', () => {
      expect(fromXml(`<xml>${head('image')}<PicUrl><![CDATA[https://p/x.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>1</MsgId></xml>`)).to.deep.include({
        picUrl: 'https://p/x.jpg',
        mediaId: 'm1',
      });
      expect(fromXml(`<xml>${head('voice')}<MediaId>m2</MediaId><Format>amr</Format><MsgId>2</MsgId></xml>`)).to.deep.include({
        mediaId: 'm2',
        voiceFormat: 'amr',
      });
      expect(fromXml(`<xml>${head('video')}<MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId><MsgId>3</MsgId></xml>`)).to.deep.include({
        mediaId: 'm3',
        thumbMediaId: 't3',
      });
      expect(
        fromXml(`<xml>${head('location')}<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[somewhere]]></Label><MsgId>4</MsgId></xml>`)
          .location,
      ).to.deep.equal({ x: 23.134521, y: 113.358803, scale: 20, label: 'somewhere' });
      expect(fromXml(`<xml>${head('link')}<Title>T</Title><Description>D</Description><Url>https://u</Url><MsgId>5</MsgId></xml>`)).to.deep.include({
        title: 'T',
        description: 'D',
        url: 'https://u',
      });
      expect(
        fromJson(
          '{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1,"MsgType":"miniprogrampage","MsgId":6,"Title":"T","AppId":"wxother","PagePath":"pages/i","ThumbUrl":"https://t","ThumbMediaId":"tm"}',
        ),
      ).to.deep.include({ title: 'T', pageAppId: 'wxother', pagePath: 'pages/i', thumbUrl: 'https://t', thumbMediaId: 'tm', msgId: '6' });
    });

    it('maps user_enter_tempsession', () => {
      const msg = fromXml(`<xml>${head('event')}<Event><![CDATA[user_enter_tempsession]]></Event><SessionFrom><![CDATA[cart]]></SessionFrom></xml>`);
      expect(msg).to.deep.include({ msgType: 'event', event: 'user_enter_tempsession', sessionFrom: 'cart' });
    });

    describe('subscribe-message events: List is always an array', () => {
      const json = (list: unknown, event = 'subscribe_msg_popup_event') =>
        fromJson(JSON.stringify({ ToUserName: 'gh_abc', FromUserName: 'oUser1', CreateTime: '1620973045', MsgType: 'event', Event: event, List: list }));

      it('JSON List as one object', () => {
        const msg = json({ TemplateId: 't1', SubscribeStatusString: 'accept', PopupScene: '0' });
        expect(msg.createTime).to.equal(1620973045);
        expect(msg.subscribeList).to.deep.equal([
          { templateId: 't1', subscribeStatus: 'accept', popupScene: '0', raw: { TemplateId: 't1', SubscribeStatusString: 'accept', PopupScene: '0' } },
        ]);
      });

      it('JSON List as an array', () => {
        const msg = json([
          { TemplateId: 't1', SubscribeStatusString: 'accept', PopupScene: 0 },
          { TemplateId: 't2', SubscribeStatusString: 'reject', PopupScene: 0 },
        ]);
        expect(msg.subscribeList?.map((i) => [i.templateId, i.subscribeStatus, i.popupScene])).to.deep.equal([
          ['t1', 'accept', '0'],
          ['t2', 'reject', '0'],
        ]);
      });

      it('XML List inside SubscribeMsgPopupEvent, one or several', () => {
        const item = (t: string) => `<List><TemplateId><![CDATA[${t}]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>`;
        const xml = (items: string) => `<xml>${head('event')}<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>${items}</SubscribeMsgPopupEvent></xml>`;
        expect(fromXml(xml(item('a'))).subscribeList?.map((i) => i.templateId)).to.deep.equal(['a']);
        expect(fromXml(xml(item('a') + item('b'))).subscribeList?.map((i) => i.templateId)).to.deep.equal(['a', 'b']);
      });

      it('sent event keeps the 64-bit MsgID of each item, XML and JSON', () => {
        const xml = fromXml(
          `<xml>${head('event')}<Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent><List>` +
            `<TemplateId><![CDATA[t]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus>` +
            `</List></SubscribeMsgSentEvent></xml>`,
        );
        expect(xml.subscribeList?.[0]).to.deep.include({ templateId: 't', msgId: '1700827132819554304', errorCode: '0', errorStatus: 'success' });
        const json = fromJson(
          '{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":"1","MsgType":"event","Event":"subscribe_msg_sent_event",' +
            '"List":{"TemplateId":"t","MsgID":1700827132819554304,"ErrorCode":0,"ErrorStatus":"success"}}',
        );
        expect(json.subscribeList?.[0]).to.deep.include({ msgId: '1700827132819554304', errorCode: '0' });
      });

      it('change event without List gives an empty array', () => {
        expect(json(undefined, 'subscribe_msg_change_event').subscribeList).to.deep.equal([]);
      });
    });

    it('maps wxa_media_check', () => {
      const msg = fromJson(
        '{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":1,"MsgType":"event","Event":"wxa_media_check",' +
          '"appid":"wx1","trace_id":"tr-1","version":2,"result":{"suggest":"risky","label":20001},"detail":[{"strategy":"content_model"}]}',
      );
      expect(msg.mediaCheck).to.deep.equal({ traceId: 'tr-1', suggest: 'risky', label: '20001' });
      expect(msg.raw.detail).to.deep.equal([{ strategy: 'content_model' }]);
    });

    it('keeps unknown types and events with their fields in raw', () => {
      const unknownType = fromXml(`<xml>${head('hologram')}<Depth>3</Depth><MsgId>9</MsgId></xml>`);
      expect(unknownType).to.deep.include({ msgType: 'hologram', msgId: '9' });
      expect(unknownType.raw.Depth).to.equal('3');
      const unknownEvent = fromXml(`<xml>${head('event')}<Event><![CDATA[future_event]]></Event><Info><A>1</A></Info></xml>`);
      expect(unknownEvent).to.deep.include({ msgType: 'event', event: 'future_event' });
      expect(unknownEvent.raw.Info).to.deep.equal({ A: '1' });
    });
  });

  describe('dedupKey', () => {
    const base = { appid: APPID, toUser: 'gh_abc', fromUser: 'oUser1', createTime: 1610969440, raw: {} };

    it('messages: appid, MsgId, FromUserName, CreateTime', () => {
      expect(dedupKey({ ...base, msgType: 'text', msgId: '23237841224789437' })).to.equal(`msg:${APPID}:23237841224789437:oUser1:1610969440`);
    });

    it('events: appid, FromUserName, CreateTime, Event', () => {
      expect(dedupKey({ ...base, msgType: 'event', event: 'user_enter_tempsession' })).to.equal(`evt:${APPID}:oUser1:1610969440:user_enter_tempsession`);
    });

    it('the same MsgId from another user or at another time is another message', () => {
      const a = dedupKey({ ...base, msgType: 'text', msgId: '1' });
      expect(dedupKey({ ...base, fromUser: 'oUser2', msgType: 'text', msgId: '1' })).to.not.equal(a);
      expect(dedupKey({ ...base, createTime: 1610969441, msgType: 'text', msgId: '1' })).to.not.equal(a);
    });

    it('a colon inside a value cannot forge another key', () => {
      // Joined raw, both would be "evt:<appid>:u:1:2:x".
      const a = dedupKey({ ...base, fromUser: 'u', createTime: 1, msgType: 'event', event: '2:x' });
      const b = dedupKey({ ...base, fromUser: 'u:1', createTime: 2, msgType: 'event', event: 'x' });
      expect(a).to.equal(`evt:${APPID}:u:1:2%3Ax`);
      expect(b).to.equal(`evt:${APPID}:u%3A1:2:x`);
    });

    it('messages without MsgId still differ by type', () => {
      expect(dedupKey({ ...base, msgType: 'text' })).to.not.equal(dedupKey({ ...base, msgType: 'image' }));
    });

    it('is the same for the same push received twice in different formats', () => {
      const xml = fromXml(`<xml>${head('text')}<Content>hi</Content><MsgId>23237841224789437</MsgId></xml>`);
      const json = fromJson('{"ToUserName":"gh_abc","FromUserName":"oUser1","CreateTime":"1610969440","MsgType":"text","Content":"hi","MsgId":23237841224789437}');
      expect(dedupKey(xml)).to.equal(dedupKey(json));
    });
  });
});
