package io.ctrack.app.bench;

import io.ctrack.shards.NodeSettings;
import io.ctrack.shards.ShardedNode;
import picocli.CommandLine.Option;

/**
 * Options every bench shares: the node's shape. The bench node runs on embedded defaults, like {@code ctrack run}.
 */
final class BenchNode
{
    @Option(names = "--buckets", paramLabel = "N", defaultValue = "4", description = "Buckets (power of two, default ${DEFAULT-VALUE}).")
    int buckets;

    @Option(names = "--bucket-threads", paramLabel = "N", defaultValue = "1",
        description = "Threads running the bucket actors (default ${DEFAULT-VALUE}; packet threads + bucket threads <= cores).")
    int bucketThreads;

    @Option(names = "--in-flight", paramLabel = "N", defaultValue = "16",
        description = "Batches each packet thread keeps in flight (power of two, default ${DEFAULT-VALUE}).")
    int inFlight;

    @Option(names = "--capacity", paramLabel = "N", defaultValue = "65536",
        description = "Connections each bucket table holds before it grows (default ${DEFAULT-VALUE}).")
    int capacity;

    @Option(names = "--idle-spin-us", paramLabel = "US", defaultValue = "50",
        description = "Microseconds an idle bucket thread keeps looking for work before it blocks (default ${DEFAULT-VALUE}).")
    long idleSpinUs;

    @Option(names = "--bucket-help", paramLabel = "auto|on|off", defaultValue = "auto",
        description = "Packet threads run the buckets' work while they wait, the bucket thread leaving it to them: "
            + "'auto' (default: when packet threads >= cores), 'on' or 'off'.")
    String bucketHelp;

    @Option(names = "--driver", paramLabel = "invoker|shared", defaultValue = "invoker",
        description = "Embedded Aeron driver: 'invoker' (no thread; the node drives it, default) or 'shared' (its own thread).")
    String driverThreading;

    @Option(names = "--term-mb", paramLabel = "MB", defaultValue = "0",
        description = "Aeron IPC term length in MiB (default: the transport's default).")
    int termMb;

    @Option(names = "--mtu", paramLabel = "BYTES", defaultValue = "0",
        description = "Aeron IPC MTU (default: the transport's default; at most the term length / 8).")
    int mtu;

    ShardedNode start(final long maxConns)
    {
        if (Integer.bitCount(buckets) != 1 || buckets > 1024)
        {
            throw new io.ctrack.app.UserError("--buckets must be a power of two from 1 to 1024, got " + buckets);
        }
        if (Integer.bitCount(inFlight) != 1 || inFlight > 1024)
        {
            throw new io.ctrack.app.UserError("--in-flight must be a power of two from 1 to 1024, got " + inFlight);
        }
        NodeSettings settings = NodeSettings.defaults("bench", buckets)
            .withBucketThreads(bucketThreads).withBucketCapacity(capacity).withMaxConns(maxConns)
            .withIdleSpinNs(idleSpinUs * 1000);
        if (termMb > 0)
        {
            settings = settings.withTransport(settings.transport().withTermLength(termMb << 20));
        }
        if (mtu > 0)
        {
            try
            {
                settings = settings.withTransport(settings.transport().withMtu(mtu));
            }
            catch (final IllegalArgumentException ex)
            {
                throw new io.ctrack.app.UserError("--mtu: " + ex.getMessage());
            }
        }
        if (!driverThreading.equals("invoker") && !driverThreading.equals("shared"))
        {
            throw new io.ctrack.app.UserError("--driver must be 'invoker' or 'shared', got '" + driverThreading + "'");
        }
        settings = settings.withTransport(settings.transport().withDriverInvoked(driverThreading.equals("invoker")));
        final ShardedNode.BucketHelp help;
        try
        {
            help = ShardedNode.BucketHelp.parse(bucketHelp);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new io.ctrack.app.UserError("--bucket-help: " + ex.getMessage());
        }
        return ShardedNode.start(settings).bucketHelp(help);
    }

    String describe()
    {
        return buckets + " buckets on " + bucketThreads + " thread(s), " + inFlight + " batches in flight per packet thread";
    }
}
