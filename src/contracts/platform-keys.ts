/** The push Token and EncodingAESKey a third-party platform signs and encrypts with (for itself and for every mini program that authorized it). */
export interface PlatformPushKeys {
  token: string;
  aesKey: string;
}

/**
 * How features find a third-party platform's push keys, without depending on where platforms are
 * stored: the portal verifies pushes of authorized mini programs with them.
 */
export interface PlatformKeyring {
  /** The platform's keys, or null when there is no such platform. */
  pushKeys(componentAppid: string): Promise<PlatformPushKeys | null>;
}
