/** Everything a sandbox instance remembers, shared by its routes and its programmatic API. */
import type { Clock } from '../kernel/clock';
import { AppRegistry } from './apps';
import { ContentChecker } from './content-check';
import { CallCounters } from './counters';
import { FaultInjector } from './faults';
import { LoginService } from './login';
import { MediaStore } from './media-store';
import { MessageLog } from './messages';
import { PayState } from './pay/pay-state';
import { PhoneCodes } from './phone';
import { PlatformState } from './platform/platform-state';
import { TokenStore } from './tokens';

export interface SandboxStateOptions {
  clock: Clock;
  tokenTtlSeconds: number;
  dailyTokenQuota: number;
}

export class SandboxState {
  readonly clock: Clock;
  readonly apps = new AppRegistry();
  readonly counters = new CallCounters();
  readonly faults = new FaultInjector();
  readonly tokens: TokenStore;
  readonly login: LoginService;
  readonly phones: PhoneCodes;
  readonly messages = new MessageLog();
  readonly content = new ContentChecker();
  readonly media: MediaStore;
  readonly pay: PayState;
  readonly platform: PlatformState;

  constructor(opts: SandboxStateOptions) {
    this.clock = opts.clock;
    this.tokens = new TokenStore({ clock: opts.clock, ttlSeconds: opts.tokenTtlSeconds, dailyClassicQuota: opts.dailyTokenQuota });
    this.login = new LoginService(opts.clock);
    this.phones = new PhoneCodes(opts.clock);
    this.media = new MediaStore(opts.clock);
    this.pay = new PayState(opts.clock);
    this.platform = new PlatformState(opts.clock, opts.tokenTtlSeconds);
  }
}
