/**
 * The Node.js flags the gateway runs with in production: `npm start` and the Dockerfile's CMD pass
 * them (a test keeps the three in step), and the benches and the soak start their gateways with them.
 *
 * A young generation of two fixed 64 MiB semi-spaces (V8's default grows from 1 to 16 MiB): a
 * gateway under load keeps a few megabytes of young objects alive at every scavenge (each in-flight
 * request's context, buffers and Redis command), and with the default it spent about a fifth of a
 * push's CPU in scavenges, one every 15 ms or so. Fixed rather than only a larger maximum: a growing
 * young generation moved RSS in steps of up to 100 MiB while the heap in use stayed flat (a soak
 * read that as +80 % growth); fixed, RSS sits about 128 MiB above the old-space figures from the
 * first seconds of traffic and stays there. The minimum cannot go in NODE_OPTIONS, hence flags.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=64', '--max-semi-space-size=64'];
