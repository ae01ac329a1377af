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
 * (batch round trip) during the flush: the flush is done by the buckets in slices, so packets keep flowing.
 */
@Command(name = "flush", mixinStandardHelpOptions = true,
    description = "Fills zone 1 with N_CONNS connections, then flushes it while a packet thread keeps established traffic flowing in zone 0; reports that traffic's verdict latency during the flush.")
final class FlushBench implements Runnable
{
    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Option(names = "--flows", paramLabel = "N", defaultValue = "1024", description = "Established flows of the steady traffic (default ${DEFAULT-VALUE}).")
    private int flows;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || flows < 1 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_CONNS >= 1, --flows >= 1, --batch 1-" + PacketWorker.MAX_BATCH);
        }
        final PrintStream out = System.out;
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, connections + flows)))
        {
            // Fill zone 1.
            final PacketWorker filler = node.newWorker(nodeOptions.inFlight);
            final Pipeline fill = new Pipeline(filler, nodeOptions.inFlight, batch);
            fill.recording(false);
            final UnsafeBuffer packets = new UnsafeBuffer(new byte[batch * OvsPackets.STRIDE]);
            final FrameBatch frames = new FrameBatch(batch);
            final ExecParams zone1 = ExecParams.commit(1);
            final long fillStart = System.nanoTime();
            final BenchCommand.Progress progress = new BenchCommand.Progress(out, "filling zone 1", connections);
            for (int i = 0; i < connections; i += batch)
            {
                frames.clear();
                for (int j = 0; j < batch && i + j < connections; j++)
                {
                    OvsPackets.distinct(packets, j * OvsPackets.STRIDE, i + j);
                    frames.add(packets, j * OvsPackets.STRIDE, OvsPackets.LENGTH);
                }
                fill.submit(frames, zone1, System.currentTimeMillis(), i);
                if ((i & 0xFFFF) == 0)
                {
                    progress.update(i);
                }
            }
            fill.drain();
            final long inZone = node.limits().zoneCount(1);
            out.printf("zone 1 filled with %d connections in %d ms%n", inZone, (System.nanoTime() - fillStart) / 1_000_000);

            // Steady established traffic in zone 0 from another packet thread.
            final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicBoolean measuring = new AtomicBoolean(false);
            final AtomicInteger phase = new AtomicInteger();
            final Histogram during = new Histogram(3_600_000_000_000L, 3);
            final Histogram before = new Histogram(3_600_000_000_000L, 3);
            final Thread traffic = new Thread(() -> steady(worker, running, phase, before, during), "steady-traffic");
            traffic.start();
            sleep(1_000);
            phase.set(1);
            sleep(1_000);
            phase.set(2);
            final long start = System.nanoTime();
            final AdminActor.Result result = node.ask(replyTo -> new AdminActor.FlushZone(1, replyTo));
            final long flushNs = System.nanoTime() - start;
            phase.set(3);
            sleep(200);
            running.set(false);
            EstablishedBench.join(traffic);
            out.printf("flushed %d connections of zone 1 in %.1f ms while traffic flowed (%s)%n", result.value(),
                flushNs / 1e6, nodeOptions.describe());
            BenchCommand.printLatency(out, "verdict latency before the flush (batch round trip)", before);
            BenchCommand.printLatency(out, "verdict latency during the flush (batch round trip)", during);
            BenchCommand.printPressure(out, node);
        }
    }

    private void steady(final PacketWorker worker, final AtomicBoolean running, final AtomicInteger phase,
        final Histogram before, final Histogram during)
    {
        final UnsafeBuffer packets = new UnsafeBuffer(new byte[flows * OvsPackets.STRIDE]);
        for (int i = 0; i < flows; i++)
        {
            OvsPackets.udp(packets, i * OvsPackets.STRIDE, 0x0C00_0000 | i, 1000 + (i & 0x7FFF), 53);
        }
        final Pipeline pipeline = new Pipeline(worker, 1, batch);
        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        int next = 0;
        int recordedPhase = 0;
        while (running.get())
        {
            final int p = phase.get();
            if (p != recordedPhase)
            {
                if (recordedPhase == 1)
                {
                    before.add(pipeline.latency());
                }
                else if (recordedPhase == 2)
                {
                    during.add(pipeline.latency());
                }
                pipeline.latency().reset();
                recordedPhase = p;
            }
            frames.clear();
            for (int j = 0; j < batch; j++)
            {
                frames.add(packets, next * OvsPackets.STRIDE, OvsPackets.LENGTH);
                next = next + 1 == flows ? 0 : next + 1;
            }
            pipeline.submit(frames, params, System.currentTimeMillis(), 0);
            pipeline.drain();
        }
    }

    private static void sleep(final long ms)
    {
        try
        {
            Thread.sleep(ms);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
