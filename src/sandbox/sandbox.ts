/** createSandbox: the programmatic face of the WeChat sandbox. */
import { systemClock } from '../kernel/clock';
import { createPayApi } from './pay/pay-api';
import { createPlatformApi } from './platform/platform-api';
import { buildApp, listen, type RequestListener } from './server';
import { SandboxState } from './state';
import type { Sandbox, SandboxOptions } from './types';

export function createSandbox(opts: SandboxOptions = {}): Sandbox {
  const st = new SandboxState({
    clock: opts.clock ?? systemClock,
    tokenTtlSeconds: opts.tokenTtlSeconds ?? 7200,
    dailyTokenQuota: opts.dailyTokenQuota ?? 2000,
  });
  for (const app of opts.apps ?? []) st.apps.register(app);

  const requireApp = (appid: string): void => {
    if (!st.apps.has(appid)) throw new Error(`sandbox: unknown appid ${appid}`);
  };
  /** Registered apps, and appids authorized to a platform (login and phone codes, revoking tokens). */
  const requireKnown = (appid: string): void => {
    if (!st.apps.has(appid) && !st.platform.authorizations.isAuthorizer(appid)) throw new Error(`sandbox: unknown appid ${appid}`);
  };
  let handler: RequestListener | undefined;
  const platform = createPlatformApi(st.platform, st.tokens);

  const sb: Sandbox = {
    clock: st.clock,
    listen: async (port, host) => {
      const srv = await listen(sb.callback(), port, host);
      return {
        ...srv,
        close: async () => {
          platform.close();
          await srv.close();
        },
      };
    },
    callback: () => {
      handler ??= buildApp(st, sb).callback();
      return handler;
    },
    registerApp: (app) => st.apps.register(app),

    calls: (endpoint, appid) => st.counters.count(endpoint, appid),
    callCounts: () => st.counters.snapshot(),
    resetCalls: () => st.counters.reset(),
    reset: () => {
      st.counters.reset();
      st.faults.clear();
      st.messages.clear();
      st.platform.events.clear();
    },

    injectFault: (f) => st.faults.add(f),
    pendingFaults: () => st.faults.list(),
    clearFaults: () => st.faults.clear(),

    rotateToken: (appid) => {
      requireApp(appid);
      return st.tokens.rotateClassic(appid).access_token;
    },
    revokeToken: (appid) => {
      requireKnown(appid);
      st.tokens.revoke(appid);
    },

    issueLoginCode: (appid, o) => {
      requireKnown(appid);
      return st.login.issue(appid, o);
    },
    sessionKeyOf: (appid, openid) => st.login.sessionKeyOf(appid, openid),

    issuePhoneCode: (appid, phone, countryCode) => {
      requireKnown(appid);
      return st.phones.issue(appid, phone, countryCode);
    },

    sentMessages: (kind) => st.messages.list(kind),
    clearMessages: () => st.messages.clear(),

    setRiskyWords: (words) => st.content.setRiskyWords(words),
    setReviewWords: (words) => st.content.setReviewWords(words),

    pay: createPayApi(st.pay),
    platform,
  };
  return sb;
}
