import http from 'node:http';
import https from 'node:https';

/**
 * One keep-alive agent pair for the whole process, shared by every tenant's client: WeChat calls
 * all go to a handful of hosts, and reusing connections saves a TLS handshake per call.
 */
export const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
export const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 512, maxFreeSockets: 64 });
