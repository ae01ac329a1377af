package io.ctrack.app.bench;

import io.ctrack.app.UserError;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.LatencyHistogram;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.shards.AdminActor;
import io.ctrack.shards.ShardedNode;
import io.ctrack.sweeper.SweepSettings;
import io.ctrack.sweeper.Sweepers;
import io.ctrack.transport.PacketWorker;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Inserts N_CONNS connections whose timeout ends at the same moment while established traffic flows, then
 * reports how late the sweepers removed them, what removing them cost, and the traffic's verdict latency while
 * they were being removed.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "N_CONNS connections expire at the same moment while established traffic flows: expiry lateness (p50/p99/max), sweep cost per connection, and the traffic's verdict latency during the sweep.")
final class SweepBench implements Runnable
{
    @Parameters(index = "0", paramLabel = "N_CONNS")
    private int connections;

    @Option(names = "--timeout-s", paramLabel = "S", defaultValue = "0",
        description = "Their UDP timeout in seconds (default: long enough for the insert to finish first).")
    private int timeoutSeconds;

    @Option(names = "--budget", paramLabel = "N", defaultValue = "1000", description = "Sweep budget per step (default ${DEFAULT-VALUE}).")
    private int budget;

    @Option(names = "--interval-ms", paramLabel = "MS", defaultValue = "1000", description = "Sweep interval (default ${DEFAULT-VALUE}).")
    private long intervalMs;

    @Option(names = "--flows", paramLabel = "N", defaultValue = "1024", description = "Established flows of the steady traffic (default ${DEFAULT-VALUE}).")
    private int flows;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32", description = "Packets per batch (default ${DEFAULT-VALUE}).")
    private int batch;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (connections < 1 || budget < 1 || intervalMs < 1 || flows < 1 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need N_CONNS >= 1, --budget >= 1, --interval-ms >= 1, --flows >= 1, --batch 1-"
                + PacketWorker.MAX_BATCH);
        }
        final PrintStream out = System.out;
        try (ShardedNode node = nodeOptions.start(Math.max(3_000_000L, (long)connections + flows)))
        {
            final int timeout = timeoutSeconds > 0 ? timeoutSeconds : Math.max(5, connections / 150_000 + 3);
            final int[] policy = new int[TimeoutAttr.count()];
            Arrays.fill(policy, -1);
            policy[TimeoutAttr.UDP_FIRST.ordinal()] = timeout;
            node.<AdminActor.Result>ask(replyTo -> new AdminActor.SetTimeoutPolicy(1, policy, replyTo));
            node.<AdminActor.Result>ask(replyTo -> new AdminActor.SetZonePolicy(1, 1, replyTo));
            final Sweepers sweepers = Sweepers.start(node, new SweepSettings(intervalMs, 0, budget));

            // Steady established traffic in zone 0.
            final PacketWorker trafficWorker = node.newWorker(nodeOptions.inFlight);
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicInteger phase = new AtomicInteger();
            final Histogram before = new Histogram(3_600_000_000_000L, 3);
            final Histogram during = new Histogram(3_600_000_000_000L, 3);
            final Thread traffic = new Thread(() -> steady(trafficWorker, running, phase, before, during), "steady");
            traffic.start();

            // N connections in zone 1, all tracked "at" the same instant: they all expire at t0 + timeout.
            final long t0 = System.currentTimeMillis();
            final long expiryMs = t0 + timeout * 1000L;
            final PacketWorker filler = node.newWorker(nodeOptions.inFlight);
            final Pipeline fill = new Pipeline(filler, nodeOptions.inFlight, batch);
            fill.recording(false);
            final UnsafeBuffer packets = new UnsafeBuffer(new byte[batch * OvsPackets.STRIDE]);
            final FrameBatch frames = new FrameBatch(batch);
            final ExecParams zone1 = ExecParams.commit(1);
            for (int i = 0; i < connections; i += batch)
            {
                frames.clear();
                for (int j = 0; j < batch && i + j < connections; j++)
                {
                    OvsPackets.distinct(packets, j * OvsPackets.STRIDE, i + j);
                    frames.add(packets, j * OvsPackets.STRIDE, OvsPackets.LENGTH);
                }
                fill.submit(frames, zone1, t0, i);
            }
            fill.drain();
            final long filledAt = System.currentTimeMillis();
            out.printf("inserted %d connections in %d ms, all expiring at t0+%d s%n", node.limits().zoneCount(1),
                filledAt - t0, timeout);
            if (filledAt >= expiryMs)
            {
                throw new UserError("the insert took longer than the timeout; use a larger --timeout-s");
            }
            phase.set(1);
            sleepUntil(expiryMs - 200);
            final long[] sweepBefore = node.counterTotals();
            phase.set(2);
            while (node.limits().zoneCount(1) > 0 && System.currentTimeMillis() < expiryMs + 60_000)
            {
                BenchCommand.sleep(1);
            }
            final long goneAt = System.currentTimeMillis();
            phase.set(3);
            BenchCommand.sleep(200);
            running.set(false);
            EstablishedBench.join(traffic);
            final long[] sweepAfter = node.counterTotals();
            final long expired = sweepAfter[EngineCounter.CONN_EXPIRED.id()] - sweepBefore[EngineCounter.CONN_EXPIRED.id()];
            final long sweepNs = sweepAfter[EngineCounter.SWEEP_NANOS.id()] - sweepBefore[EngineCounter.SWEEP_NANOS.id()];
            final long steps = sweepAfter[EngineCounter.SWEEP_STEPS.id()] - sweepBefore[EngineCounter.SWEEP_STEPS.id()];
            final long[] lateness = new long[LatencyHistogram.buckets()];
            final long maxLate = node.lateness(lateness);
            out.printf("last expired connection gone %d ms after the expiry (%s)%n", goneAt - expiryMs,
                node.limits().zoneCount(1) == 0 ? "all removed" : node.limits().zoneCount(1) + " LEFT");
            out.printf("expiry lateness of swept connections (ms, bucket upper bounds): p50 %d  p99 %d  max %d%n",
                LatencyHistogram.percentileMs(lateness, maxLate, 50), LatencyHistogram.percentileMs(lateness, maxLate, 99),
                maxLate);
            out.printf("sweeping: %d connections removed in %d steps, %.1f ns of bucket time per removed connection"
                + " (budget %d, interval %d ms; %s)%n", expired, steps, expired == 0 ? 0.0 : (double)sweepNs / expired,
                budget, intervalMs, nodeOptions.describe());
            BenchCommand.printLatency(out, "verdict latency before expiry (batch round trip)", before);
            BenchCommand.printLatency(out, "verdict latency while sweeping (batch round trip)", during);
            BenchCommand.printPressure(out, node);
        }
    }

    private void steady(final PacketWorker worker, final AtomicBoolean running, final AtomicInteger phase,
        final Histogram before, final Histogram during)
    {
        final UnsafeBuffer packets = OvsPackets.steadyFlows(flows);
        final Pipeline pipeline = new Pipeline(worker, 1, batch);
        final ExecParams params = ExecParams.commit(0);
        final FrameBatch frames = new FrameBatch(batch);
        int next = 0;
        int recorded = 0;
        while (running.get())
        {
            final int p = phase.get();
            if (p != recorded)
            {
                if (recorded == 1)
                {
                    before.add(pipeline.latency());
                }
                else if (recorded == 2)
                {
                    during.add(pipeline.latency());
                }
                pipeline.latency().reset();
                recorded = p;
            }
            frames.clear();
            next = OvsPackets.addRoundRobin(frames, packets, flows, next, batch);
            pipeline.submit(frames, params, System.currentTimeMillis(), 0);
            pipeline.drain();
            // Paced, as real traffic is: a batch every 20 microseconds at most.
            final long until = System.nanoTime() + 20_000;
            while (System.nanoTime() < until)
            {
                Thread.onSpinWait();
            }
        }
    }

    private static void sleepUntil(final long wallMs)
    {
        final long ms = wallMs - System.currentTimeMillis();
        if (ms > 0)
        {
            BenchCommand.sleep(ms);
        }
    }
}
