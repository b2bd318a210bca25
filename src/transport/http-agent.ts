import type http from 'node:http';
import type https from 'node:https';
import { outboundAgents, type OutboundPolicy } from './address-policy';

/**
 * One keep-alive agent pair per WeChat HTTP edge (one per process), shared by every tenant's client:
 * WeChat calls all go to a handful of hosts, and reusing connections saves a TLS handshake per call.
 * A tenant may name its own apiBase, so the agents apply the outbound address policy.
 */
export function wechatAgents(policy: OutboundPolicy): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  return outboundAgents(policy, { maxSockets: 512, maxFreeSockets: 64 });
}
