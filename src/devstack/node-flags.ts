/**
 * The Node.js flags the gateway runs with in production: `npm start` and the Dockerfile's CMD pass
 * them (a test keeps the three in step), and the benches and the soak start their gateways with them.
 *
 * `--max-semi-space-size=64` (MiB; V8's default is 16): a gateway under load keeps a few megabytes of
 * young objects alive at every scavenge (each in-flight request's context, buffers and Redis
 * command), so with the default young generation it spent about a fifth of a push's CPU in
 * scavenges that copied the same in-flight set over and over; four times the space means about a
 * quarter of the scavenges. It costs up to 128 MiB more RSS under load (two semi-spaces), returned
 * when load stops.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
