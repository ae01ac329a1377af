package io.ctrack.app.bench;

import io.ctrack.app.UserError;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.concurrent.CyclicBarrier;

/**
 * Inserts N_CONNS distinct UDP connections through the full path from N_THREADS packet threads, and prints the time
 * and the cost per inserted connection.
 */
@Command(name = "insert", mixinStandardHelpOptions = true,
    description = "Inserts N_CONNS distinct connections (commit) through the full path from N_THREADS packet threads.")
final class InsertBench implements Runnable
{
    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Parameters(index = "1", paramLabel = "N_THREADS", defaultValue = "1")
    private int threads;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1",
        description = "Connections inserted first into a separate node that is then shut down (default: N_CONNS), so "
            + "the JIT has compiled the path while the timed run still starts from empty tables; 0 times a cold start.")
    private int warmup;

    @Option(names = "--warmup-nodes", paramLabel = "K", defaultValue = "3",
        description = "Warm-up runs, each into a node of its own (default ${DEFAULT-VALUE}). A new node's first inserts "
            + "take branches the first node's compiled code never saw (empty zone lists and expiry slots): the JIT "
            + "deoptimizes and recompiles, and the time settles by the third node (docs/BENCHMARKS.md).")
    private int warmupNodes;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || threads < 1 || threads > 64 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_CONNS >= 1, 1-64 threads and a batch of 1-" + PacketWorker.MAX_BATCH);
        }
        final PrintStream out = System.out;
        if (warmupNodes < 1)
        {
            throw new UserError("--warmup-nodes must be at least 1, got " + warmupNodes);
        }
        final int warmupConnections = warmup < 0 ? connections : warmup;
        if (warmupConnections > 0)
        {
            final StringBuilder times = new StringBuilder();
            for (int n = 0; n < warmupNodes; n++)
            {
                try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, warmupConnections)))
                {
                    final long warmupNs = insertAll(node, warmupConnections, new Histogram(3_600_000_000_000L, 3), out);
                    times.append(n == 0 ? "" : ", ").append(warmupNs / 1_000_000);
                }
            }
            out.printf("(warm-up: %d connections into each of %d separate nodes in %s ms, JIT compilation included)%n",
                warmupConnections, warmupNodes, times);
        }
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, connections)))
        {
            final Histogram latency = new Histogram(3_600_000_000_000L, 3);
            final long elapsedNs = insertAll(node, connections, latency, out);
            final AdminActor.Result count = node.ask(AdminActor.GetNConns::new);
            out.printf("inserted %d connections in %d ms: %.1f ns per connection (%s, batches of %d)%n", connections,
                elapsedNs / 1_000_000, (double)elapsedNs / connections, nodeOptions.describe(), batch);
            out.printf("connections in the node afterwards: %d%n", count.value());
            BenchCommand.printLatency(out, "batch round trip", latency);
            if (count.value() != connections)
            {
                out.printf("WARNING: expected %d connections%n", connections);
            }
            BenchCommand.printPressure(out, node);
        }
    }

    /** Inserts {@code total} distinct connections split over the packet threads; returns the elapsed time. */
    private long insertAll(final ShardedNode node, final int total, final Histogram latency, final PrintStream out)
    {
        final CyclicBarrier barrier = new CyclicBarrier(threads + 1);
        final Thread[] workers = new Thread[threads];
        final int per = (total + threads - 1) / threads;
        for (int t = 0; t < threads; t++)
        {
            final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
            final int first = t * per;
            final int last = Math.min(total, first + per);
            workers[t] = new Thread(() ->
            {
                final Histogram h = insert(worker, first, last, barrier, out);
                synchronized (latency)
                {
                    latency.add(h);
                }
            }, "insert-" + t);
            workers[t].start();
        }
        EstablishedBench.await(barrier);
        final long start = System.nanoTime();
        EstablishedBench.await(barrier);
        final long elapsedNs = System.nanoTime() - start;
        for (final Thread worker : workers)
        {
            EstablishedBench.join(worker);
        }
        return elapsedNs;
    }

    private Histogram insert(final PacketWorker worker, final int first, final int last, final CyclicBarrier barrier,
        final PrintStream out)
    {
        final int n = last - first;
        final UnsafeBuffer packets = new UnsafeBuffer(new byte[Math.max(1, n) * OvsPackets.STRIDE]);
        for (int i = 0; i < n; i++)
        {
            OvsPackets.distinct(packets, i * OvsPackets.STRIDE, first + i);
        }
        final Pipeline pipeline = new Pipeline(worker, nodeOptions.inFlight, batch);
        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        final BenchCommand.Progress progress = first == 0 ? new BenchCommand.Progress(out, "inserts", n) : null;
        EstablishedBench.await(barrier);
        final long nowMs = System.currentTimeMillis();
        for (int i = 0; i < n; i += batch)
        {
            frames.clear();
            for (int j = i; j < Math.min(n, i + batch); j++)
            {
                frames.add(packets, j * OvsPackets.STRIDE, OvsPackets.LENGTH);
            }
            pipeline.submit(frames, params, nowMs, i);
            if (progress != null && (i & 0xFFFF) == 0)
            {
                progress.update(i);
            }
        }
        pipeline.drain();
        EstablishedBench.await(barrier);
        return pipeline.latency();
    }
}
