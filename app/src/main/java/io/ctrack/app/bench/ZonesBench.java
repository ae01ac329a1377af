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

/**
 * Open vSwitch's {@code test-conntrack benchmark-zones N_CONNS N_ZONES ITERATIONS}, same packets and steps: insert
 * N_CONNS connections into each of N_ZONES zones, then per iteration flush zone 1, refill it with commit, run it
 * again without commit, and flush the empty zone 65535, timing each step.
 */
@Command(name = "zones", mixinStandardHelpOptions = true,
    description = "Open vSwitch's 'test-conntrack benchmark-zones': flush a full zone, refill it with and without commit, flush an empty zone.")
final class ZonesBench implements Runnable
{
    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Parameters(index = "1", paramLabel = "N_ZONES")
    private int zones;

    @Parameters(index = "2", paramLabel = "ITERATIONS")
    private int iterations;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
        description = "Packets per batch (default ${DEFAULT-VALUE}; Open vSwitch's harness sends one per call).")
    private int batch;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "-1",
        description = "Untimed iterations of the same steps before the timed ones, so the JIT has compiled the admin "
            + "and insert paths (default: as many as run in " + DEFAULT_WARMUP_MS + " ms, at least "
            + MIN_DEFAULT_WARMUP + "); 0 times a cold start.")
    private int warmup;

    /**
     * The default warm-up's length. A fixed count of 200 iterations (the earlier default) ended while the JIT was
     * still compiling: the timed steps then shared the two cores with the compiler thread and averaged 2-3 times
     * their settled cost; from about 2 s on they are settled (docs/BENCHMARKS.md).
     */
    private static final long DEFAULT_WARMUP_MS = 3_000;
    private static final int MIN_DEFAULT_WARMUP = 200;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || zones < 1 || zones >= 65535 || iterations < 1 || batch < 1
            || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_CONNS >= 1, N_ZONES 1-65534, ITERATIONS >= 1, batch 1-" + PacketWorker.MAX_BATCH);
        }
        final PrintStream out = System.out;
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, (long)connections * zones)))
        {
            final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
            final Pipeline pipeline = new Pipeline(worker, nodeOptions.inFlight, batch);
            pipeline.recording(false);

            long start = System.nanoTime();
            final UnsafeBuffer packets = new UnsafeBuffer(new byte[connections * OvsPackets.STRIDE]);
            for (int i = 0; i < connections; i++)
            {
                OvsPackets.zones(packets, i * OvsPackets.STRIDE, i);
            }
            out.printf("initial packet generation time: %d ms%n", (System.nanoTime() - start) / 1_000_000);

            start = System.nanoTime();
            final BenchCommand.Progress progress = new BenchCommand.Progress(out, "initial insert", (long)zones * connections);
            for (int zone = 0; zone < zones; zone++)
            {
                sendAll(pipeline, packets, ExecParams.commit(zone));
                progress.update((long)(zone + 1) * connections);
            }
            out.printf("initial insert time: %d ms%n", (System.nanoTime() - start) / 1_000_000);

            if (warmup != 0)
            {
                start = System.nanoTime();
                final long untilNs = start + DEFAULT_WARMUP_MS * 1_000_000;
                final BenchCommand.Progress warming =
                    warmup > 0 ? new BenchCommand.Progress(out, "warm-up", warmup) : null;
                int done = 0;
                while (warmup > 0 ? done < warmup : done < MIN_DEFAULT_WARMUP || System.nanoTime() - untilNs < 0)
                {
                    flush(node, 1);
                    sendAll(pipeline, packets, ExecParams.commit(1));
                    sendAll(pipeline, packets, new ExecParams().zone(1).commit(false));
                    flush(node, 65535);
                    done++;
                    if (warming != null)
                    {
                        warming.update(done);
                    }
                }
                out.printf("warm-up: %d untimed iterations in %d ms%n", done, (System.nanoTime() - start) / 1_000_000);
            }
            final Histogram commit = new Histogram(3_600_000_000_000L, 3);
            final Histogram noCommit = new Histogram(3_600_000_000_000L, 3);
            final Histogram flushFull = new Histogram(3_600_000_000_000L, 3);
            final Histogram flushEmpty = new Histogram(3_600_000_000_000L, 3);
            start = System.nanoTime();
            for (int i = 0; i < iterations; i++)
            {
                long t = System.nanoTime();
                flush(node, 1);
                flushFull.recordValue((System.nanoTime() - t) / 1000);

                t = System.nanoTime();
                sendAll(pipeline, packets, ExecParams.commit(1));
                commit.recordValue((System.nanoTime() - t) / 1000);

                t = System.nanoTime();
                sendAll(pipeline, packets, new ExecParams().zone(1).commit(false));
                noCommit.recordValue((System.nanoTime() - t) / 1000);

                t = System.nanoTime();
                flush(node, 65535);
                flushEmpty.recordValue((System.nanoTime() - t) / 1000);
            }
            out.printf("flush run time: %d ms%n", (System.nanoTime() - start) / 1_000_000);
            out.printf("results:%n");
            out.printf("         | ct execute (commit) | ct execute (no commit) | flush full zone | flush empty zone |%n");
            out.printf("+--------+---------------------+------------------------+-----------------+------------------+%n");
            out.printf("| Min    | %16d us | %19d us | %12d us | %13d us |%n", commit.getMinValue(),
                noCommit.getMinValue(), flushFull.getMinValue(), flushEmpty.getMinValue());
            out.printf("| Max    | %16d us | %19d us | %12d us | %13d us |%n", commit.getMaxValue(),
                noCommit.getMaxValue(), flushFull.getMaxValue(), flushEmpty.getMaxValue());
            out.printf("| 95%%ile | %16.2f us | %19.2f us | %12.2f us | %13.2f us |%n",
                (double)commit.getValueAtPercentile(95), (double)noCommit.getValueAtPercentile(95),
                (double)flushFull.getValueAtPercentile(95), (double)flushEmpty.getValueAtPercentile(95));
            out.printf("| Avg    | %16.2f us | %19.2f us | %12.2f us | %13.2f us |%n", commit.getMean(),
                noCommit.getMean(), flushFull.getMean(), flushEmpty.getMean());
            out.printf("(%s; packets in batches of %d; Avg is the mean, Open vSwitch prints an EWMA)%n",
                nodeOptions.describe(), batch);
            BenchCommand.printPressure(out, node);
        }
    }

    private void sendAll(final Pipeline pipeline, final UnsafeBuffer packets, final ExecParams params)
    {
        final FrameBatch frames = new FrameBatch(batch);
        final long nowMs = System.currentTimeMillis();
        for (int i = 0; i < connections; i += batch)
        {
            frames.clear();
            for (int j = i; j < Math.min(connections, i + batch); j++)
            {
                frames.add(packets, j * OvsPackets.STRIDE, OvsPackets.LENGTH);
            }
            pipeline.submit(frames, params, nowMs, i);
        }
        pipeline.drain();
    }

    private static void flush(final ShardedNode node, final int zone)
    {
        final AdminActor.Result result = node.ask(replyTo -> new AdminActor.FlushZone(zone, replyTo));
        if (!result.ok())
        {
            throw new IllegalStateException("flush of zone " + zone + " failed: " + result.text());
        }
    }
}
