import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import http, { type ClientRequestArgs } from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Where the gateway may send requests on a tenant's behalf (its apiBase, its webhook). Those URLs
 * come from tenant files, so without a rule a tenant could point the gateway at the cloud metadata
 * service, an admin port on localhost or another internal system. Refused unless the operator
 * allows it (ALLOW_PRIVATE_URLS, for development and tests): plain http, loopback, link-local,
 * private, shared, documentation, multicast and reserved addresses. The rule is applied twice: to
 * the URL when a tenant file is applied, and to the resolved address when a connection is opened,
 * so a name that resolves to an internal address (DNS rebinding) is refused too.
 */
export interface OutboundPolicy {
  allowPrivateAddresses: boolean;
  /** Host names the operator configured (WECHAT_API_BASE): trusted whatever they resolve to. */
  trustedHosts?: readonly string[];
}

const blocked = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified
  ['::1', 128],
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(prefix, bits, 'ipv6');
}

/** Whether an IP address is one the gateway must not reach for a tenant (IPv4-mapped IPv6 included). */
export function isPrivateAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 0) return false;
  // BlockList checks an IPv4-mapped IPv6 address (::ffff:10.0.0.1) against the IPv4 rules.
  return blocked.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The WHATWG parser keeps the brackets of an IPv6 host; addresses are compared without them. */
const bareHost = (hostname: string) =>
  hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();

/** Why a tenant's URL may not be used, or undefined when it may. Validates the string only: sends nothing. */
export function urlProblem(url: string, policy: OutboundPolicy): string | undefined {
  if (policy.allowPrivateAddresses) return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'expected an https URL';
  }
  if (u.protocol !== 'https:') return 'must use https (set ALLOW_PRIVATE_URLS=true to allow plain http in development)';
  const host = bareHost(u.hostname);
  // The parser has already normalised numeric forms (0x7f.1, 2130706433) to dotted quads.
  if (isPrivateAddress(host) || host === 'localhost' || host.endsWith('.localhost')) {
    return `must not point at a loopback, private or link-local address (${host}); set ALLOW_PRIVATE_URLS=true to allow it in development`;
  }
  return undefined;
}

function refusal(host: string, address: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`refused to connect to ${host}: ${address} is a loopback, private or link-local address`), { code: 'ERR_PRIVATE_ADDRESS' });
}

type Resolve = (hostname: string, options: LookupOptions & { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `lookup` for sockets that refuses a name resolving to any private address: the check happens on
 * the address the socket will use, after DNS, so a name cannot be rebound to an internal address
 * between validation and connection. `resolve` is dns.lookup; tests give a fake.
 */
export function publicOnlyLookup(policy: OutboundPolicy, resolve: Resolve = dns.lookup): LookupFunction {
  const trusted = new Set((policy.trustedHosts ?? []).map(bareHost));
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      if (!policy.allowPrivateAddresses && !trusted.has(bareHost(hostname))) {
        const bad = addresses.find((a) => isPrivateAddress(a.address));
        if (bad) return callback(refusal(hostname, bad.address), '');
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
      callback(null, first.address, first.family);
    });
  };
}

/** Sockets never call `lookup` for an IP literal, so the agents check those themselves. */
function literalRefusal(policy: OutboundPolicy, trusted: ReadonlySet<string>, options: ClientRequestArgs): NodeJS.ErrnoException | undefined {
  if (policy.allowPrivateAddresses) return undefined;
  const host = bareHost(options.host ?? options.hostname ?? '');
  return net.isIP(host) && !trusted.has(host) && isPrivateAddress(host) ? refusal(host, host) : undefined;
}

export interface AgentSizes {
  maxSockets: number;
  maxFreeSockets?: number;
}

/** A keep-alive http/https agent pair that applies the policy to every connection it opens. */
export function outboundAgents(policy: OutboundPolicy, sizes: AgentSizes): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const trusted = new Set((policy.trustedHosts ?? []).map(bareHost));
  const options = { keepAlive: true, ...sizes, lookup: publicOnlyLookup(policy) };

  class GuardedHttpAgent extends http.Agent {
    override createConnection(o: ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const refused = literalRefusal(policy, trusted, o);
      if (!refused) return super.createConnection(o, callback);
      callback?.(refused, undefined as unknown as Duplex);
      return undefined;
    }
  }
  class GuardedHttpsAgent extends https.Agent {
    override createConnection(o: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
      const refused = literalRefusal(policy, trusted, o);
      if (!refused) return super.createConnection(o, callback);
      callback?.(refused, undefined as unknown as Duplex);
      return undefined;
    }
  }
  return { httpAgent: new GuardedHttpAgent(options), httpsAgent: new GuardedHttpsAgent(options) };
}
