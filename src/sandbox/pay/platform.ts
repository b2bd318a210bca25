/**
 * The sandbox's WeChat Pay platform identities, made on first use and shared by all merchants of a sandbox:
 * an RSA-2048 "WeChat Pay public key" pair, and a platform certificate (self-signed X.509, made with the
 * openssl CLI) with its own key pair.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PlatformKey {
  privateKey: KeyObject;
  /** SPKI PEM. */
  publicKeyPem: string;
}

export interface PlatformCertificate {
  privateKey: KeyObject;
  pem: string;
  /** Hex, upper case, as WeChat Pay writes serials. */
  serialNo: string;
  /** ISO times of the certificate's validity. */
  effectiveTime: string;
  expireTime: string;
}

function makeCertificate(): PlatformCertificate {
  const dir = mkdtempSync(path.join(tmpdir(), 'wxgate-sbx-cert-'));
  try {
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '3650'];
    execFileSync('openssl', [...args, '-subj', '/C=CN/O=Tenpay.com/CN=Tenpay.com Sandbox CA'], { stdio: 'pipe' });
    const pem = readFileSync(certFile, 'utf8');
    const x509 = new X509Certificate(pem);
    return {
      privateKey: createPrivateKey(readFileSync(keyFile, 'utf8')),
      pem,
      serialNo: x509.serialNumber.toUpperCase(),
      effectiveTime: new Date(x509.validFrom).toISOString(),
      expireTime: new Date(x509.validTo).toISOString(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export class PlatformIdentities {
  private key?: PlatformKey;
  private cert?: PlatformCertificate;

  publicKey(): PlatformKey {
    if (!this.key) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      this.key = { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
    }
    return this.key;
  }

  certificate(): PlatformCertificate {
    this.cert ??= makeCertificate();
    return this.cert;
  }
}
