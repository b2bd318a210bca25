import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.memory.MemoryBackend;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * In-memory MongoDB-wire server for wxgate's tests (mongo-java-server 1.47.0).
 *
 * Run in Java's single-file source mode:
 *   java -cp CLASSPATH scripts/mongo/MongoLauncher.java [port]
 *
 * Prints exactly one line, "LISTENING <port>", on stdout once it accepts
 * connections. It exits when stdin reaches EOF or on SIGTERM: the parent holds
 * the write end of stdin, so even a parent killed with SIGKILL takes the
 * server down with it.
 */
public final class MongoLauncher {

    /**
     * The mongodb Node driver 7 (mongoose 9) refuses servers below wire
     * version 9 (MongoDB 4.4), and 1.47.0's ServerVersion enum stops at
     * MONGO_5_0, which still reports wire version 8. The backend takes any
     * MongoVersion, so we declare the version the driver needs ourselves.
     */
    private enum ReportedVersion implements MongoVersion {
        MONGO_4_4(List.of(4, 4, 0), 9);

        private final List<Integer> versionArray;
        private final int wireVersion;

        ReportedVersion(List<Integer> versionArray, int wireVersion) {
            this.versionArray = versionArray;
            this.wireVersion = wireVersion;
        }

        @Override
        public List<Integer> getVersionArray() {
            return versionArray;
        }

        @Override
        public int getWireVersion() {
            return wireVersion;
        }
    }

    public static void main(String[] args) throws IOException {
        int requestedPort = args.length > 0 ? Integer.parseInt(args[0]) : 0;

        MemoryBackend backend = new MemoryBackend();
        backend.version(ReportedVersion.MONGO_4_4);
        MongoServer server = new MongoServer(backend);
        // Change streams read the oplog; it is off by default in mongo-java-server.
        server.enableOplog();
        server.bind("127.0.0.1", requestedPort);

        // SIGTERM runs shutdown hooks; stopping the listener first frees the port at once.
        Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow, "mongo-launcher-shutdown"));

        System.out.println("LISTENING " + server.getLocalAddress().getPort());
        System.out.flush();

        drain(System.in);
        System.exit(0);
    }

    /** Blocks until the parent closes our stdin (or dies). */
    private static void drain(InputStream in) {
        byte[] buffer = new byte[256];
        try {
            while (in.read(buffer) >= 0) {
                // Input is ignored; only EOF matters.
            }
        } catch (IOException closed) {
            // A broken pipe means the same as EOF: nobody is left to serve.
        }
    }
}
