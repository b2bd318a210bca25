/** Public types of the sandbox's WeChat Open Platform third-party platform ("component") imitation (`sandbox.platform`). */

export interface PlatformRegistration {
  /** Component appid: `wx` + 16 hex digits. */
  componentAppid: string;
  /** Component appsecret: 32 hex digits. */
  secret: string;
  /** Message verification token of the platform's event URL. */
  token: string;
  /** 43-character EncodingAESKey of the platform's event URL. */
  aesKey: string;
  /** Authorization event URL (component_verify_ticket and authorization changes). */
  eventUrl?: string;
  /** When set, a component_verify_ticket is pushed every this many ms of real time (WeChat: every 10 minutes). */
  ticketIntervalMs?: number;
  /** When true, every api_authorizer_token call returns a new refresh token and the one it was called with dies. Default false. */
  rotateRefreshTokens?: boolean;
}

export type PlatformInfoType = 'component_verify_ticket' | 'authorized' | 'updateauthorized' | 'unauthorized';

/** One event POSTed (or meant to be POSTed) to a platform's event URL. */
export interface PlatformEvent {
  componentAppid: string;
  infoType: PlatformInfoType;
  authorizerAppid?: string;
  /** The event URL at the time; '' when the platform had none (then nothing was posted). */
  url: string;
  /** Clock milliseconds of the attempt. */
  at: number;
  /** HTTP status of the answer; 0 when there was none (no URL, connection refused, timeout). */
  status: number;
  /** The answer's body (WeChat expects `success`), or the network error's message. */
  responseBody: string;
  /** Query string sent: signature, timestamp, nonce, encrypt_type=aes, msg_signature. */
  query: Record<string, string>;
  /** The encrypted XML body sent. */
  body: string;
  /** The decrypted inner XML, for assertions. */
  plaintext: string;
}

export interface TicketResult {
  ticket: string;
  /** HTTP status of the event URL's answer (0: none). */
  status: number;
  /** Body of the event URL's answer. */
  body: string;
}

export interface AuthorizeOptions {
  componentAppid: string;
  /** A pre_auth_code from api_create_preauthcode; consumed. */
  preAuthCode: string;
  authorizerAppid: string;
  /** Permission set ids (func_info); default DEFAULT_FUNC_IDS. */
  funcIds?: number[];
}

export interface UpdateAuthorizationOptions {
  componentAppid: string;
  authorizerAppid: string;
  /** A pre_auth_code to consume; when omitted, the event carries a fresh one nobody was given. */
  preAuthCode?: string;
  funcIds?: number[];
}

export interface AuthorizeResult {
  /** The authorization_code (`queryauthcode@@@...`), single use, 1 hour. */
  authCode: string;
  /** redirect_uri of the componentloginpage opened with the pre_auth_code, with `auth_code` and `expires_in=3600` appended; null when none was opened. */
  redirect: string | null;
  /** The authorized / updateauthorized event as sent. */
  event: PlatformEvent;
}

export interface AuthorizerView {
  authorizerAppid: string;
  /** The refresh token that currently works. */
  refreshToken: string;
  funcIds: number[];
  /** Clock milliseconds of the (last) authorization. */
  authTime: number;
}

export interface PlatformApi {
  registerPlatform(p: PlatformRegistration): void;
  exists(componentAppid: string): boolean;
  setEventUrl(componentAppid: string, url: string): void;
  setRotateRefreshTokens(componentAppid: string, rotate: boolean): void;
  /** Issues a new component_verify_ticket (12 h; earlier ones stay valid until they expire) and posts it to the event URL. */
  sendTicket(componentAppid: string): Promise<TicketResult>;
  /** The latest ticket, or undefined when none was issued. */
  currentTicket(componentAppid: string): string | undefined;
  /** (Re)starts pushing a ticket every `intervalMs` of real time (the timer does not keep the process alive). */
  startTickets(componentAppid: string, intervalMs: number): void;
  stopTickets(componentAppid: string): void;
  /** Stops every ticket timer (also done when the sandbox's server closes). */
  close(): void;

  /** The mini program's admin approves the authorization page of a pre_auth_code: posts `authorized`. */
  authorize(o: AuthorizeOptions): Promise<AuthorizeResult>;
  /** The admin changes the granted permissions: new authorization code, posts `updateauthorized`. */
  updateAuthorization(o: UpdateAuthorizationOptions): Promise<AuthorizeResult>;
  /** The admin cancels the authorization: posts `unauthorized`; its authorizer tokens (40001), refresh token and codes die. */
  unauthorize(componentAppid: string, authorizerAppid: string): Promise<PlatformEvent>;
  /** The current refresh token stops working (61023); the authorization stays and gets a new one (see api_get_authorizer_list). Returns it. */
  revokeRefreshToken(componentAppid: string, authorizerAppid: string): string;
  authorizers(componentAppid: string): AuthorizerView[];

  events(): PlatformEvent[];
  clearEvents(): void;
}
