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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Flushes a zone of N_CONNS connections while other traffic flows, and reports that traffic's verdict latency
 * (batch round trip) during the flush: the flush is done by the buckets in slices, so packets keep flowing. A
 * smaller warm-up flush runs first (its figures are printed too, as the cold case), so that the timed flush does
 * not share the CPU with the JIT compiling the flush path.
 */
@Command(name = "flush", mixinStandardHelpOptions = true,
    description = "Fills zone 1 with N_CONNS connections, then flushes it while a packet thread keeps established traffic flowing in zone 0; reports that traffic's verdict latency during the flush.")
final class FlushBench implements Runnable
{
    private static final int PHASE_BEFORE = 1;
    private static final int PHASE_WARMUP_FLUSH = 2;
    private static final int PHASE_BETWEEN = 3;
    private static final int PHASE_FLUSH = 4;
    private static final int PHASE_AFTER = 5;

    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Option(names = "--flows", paramLabel = "N", defaultValue = "1024", description = "Established flows of the steady traffic (default ${DEFAULT-VALUE}).")
    private int flows;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "200000",
        description = "Connections of zone 2 flushed first, untimed, while the traffic flows (default ${DEFAULT-VALUE}); 0 times a cold flush.")
    private int warmup;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || flows < 1 || batch < 1 || batch > PacketWorker.MAX_BATCH || warmup < 0)
        {
            throw new UserError("need N_CONNS >= 1, --flows >= 1, --batch 1-" + PacketWorker.MAX_BATCH + ", --warmup >= 0");
        }
        final PrintStream out = System.out;
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, (long)connections + warmup + flows)))
        {
            final PacketWorker filler = node.newWorker(nodeOptions.inFlight);
            final Pipeline fill = new Pipeline(filler, nodeOptions.inFlight, batch);
            fill.recording(false);
            final long fillStart = System.nanoTime();
            fill(fill, 1, 0, connections, out);
            if (warmup > 0)
            {
                fill(fill, 2, connections, warmup, out);
            }
            out.printf("zone 1 filled with %d connections%s in %d ms%n", node.limits().zoneCount(1),
                warmup > 0 ? ", zone 2 with " + node.limits().zoneCount(2) : "", (System.nanoTime() - fillStart) / 1_000_000);

            // Steady established traffic in zone 0 from another packet thread.
            final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicInteger phase = new AtomicInteger();
            final Histogram[] byPhase = new Histogram[PHASE_AFTER + 1];
            for (int p = 0; p < byPhase.length; p++)
            {
                byPhase[p] = new Histogram(3_600_000_000_000L, 3);
            }
            final Thread traffic = new Thread(() -> steady(worker, running, phase, byPhase), "steady-traffic");
            traffic.start();
            BenchCommand.sleep(1_000);
            phase.set(PHASE_BEFORE);
            BenchCommand.sleep(1_000);
            if (warmup > 0)
            {
                phase.set(PHASE_WARMUP_FLUSH);
                final long warmupNs = flush(node, 2);
                phase.set(PHASE_BETWEEN);
                out.printf("warm-up: flushed %d connections of zone 2 in %.1f ms while traffic flowed (JIT compiling the "
                    + "flush path)%n", warmup, warmupNs / 1e6);
                BenchCommand.sleep(500);
            }
            phase.set(PHASE_FLUSH);
            final long start = System.nanoTime();
            final AdminActor.Result result = node.ask(replyTo -> new AdminActor.FlushZone(1, replyTo));
            final long flushNs = System.nanoTime() - start;
            phase.set(PHASE_AFTER);
            BenchCommand.sleep(200);
            running.set(false);
            EstablishedBench.join(traffic);
            out.printf("flushed %d connections of zone 1 in %.1f ms while traffic flowed (%s)%n", result.value(),
                flushNs / 1e6, nodeOptions.describe());
            BenchCommand.printLatency(out, "verdict latency before the flush (batch round trip)", byPhase[PHASE_BEFORE]);
            if (warmup > 0)
            {
                BenchCommand.printLatency(out, "verdict latency during the warm-up flush (cold)", byPhase[PHASE_WARMUP_FLUSH]);
            }
            BenchCommand.printLatency(out, "verdict latency during the flush (batch round trip)", byPhase[PHASE_FLUSH]);
            BenchCommand.printPressure(out, node);
        }
    }

    private void fill(final Pipeline fill, final int zone, final int firstIndex, final int count, final PrintStream out)
    {
        final UnsafeBuffer packets = new UnsafeBuffer(new byte[batch * OvsPackets.STRIDE]);
        final FrameBatch frames = new FrameBatch(batch);
        final ExecParams params = ExecParams.commit(zone);
        final BenchCommand.Progress progress = new BenchCommand.Progress(out, "filling zone " + zone, count);
        for (int i = 0; i < count; i += batch)
        {
            frames.clear();
            for (int j = 0; j < batch && i + j < count; j++)
            {
                OvsPackets.distinct(packets, j * OvsPackets.STRIDE, firstIndex + i + j);
                frames.add(packets, j * OvsPackets.STRIDE, OvsPackets.LENGTH);
            }
            fill.submit(frames, params, System.currentTimeMillis(), i);
            if ((i & 0xFFFF) == 0)
            {
                progress.update(i);
            }
        }
        fill.drain();
    }

    private static long flush(final ShardedNode node, final int zone)
    {
        final long start = System.nanoTime();
        final AdminActor.Result result = node.ask(replyTo -> new AdminActor.FlushZone(zone, replyTo));
        if (!result.ok())
        {
            throw new IllegalStateException("flush of zone " + zone + " failed: " + result.text());
        }
        return System.nanoTime() - start;
    }

    private void steady(final PacketWorker worker, final AtomicBoolean running, final AtomicInteger phase,
        final Histogram[] byPhase)
    {
        final UnsafeBuffer packets = OvsPackets.steadyFlows(flows);
        // One batch in flight: each sample is the full round trip of a batch that had to wait for nothing else.
        final Pipeline pipeline = new Pipeline(worker, 1, batch).busySpin();
        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        int next = 0;
        int recordedPhase = 0;
        while (running.get())
        {
            final int p = phase.get();
            if (p != recordedPhase)
            {
                byPhase[recordedPhase].add(pipeline.latency());
                pipeline.latency().reset();
                recordedPhase = p;
            }
            frames.clear();
            next = OvsPackets.addRoundRobin(frames, packets, flows, next, batch);
            pipeline.submit(frames, params, System.currentTimeMillis(), 0);
            pipeline.drain();
        }
        byPhase[recordedPhase].add(pipeline.latency());
    }
}
