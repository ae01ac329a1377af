package io.ctrack.app.bench;

import io.ctrack.app.UserError;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.shards.ShardedNode;
import io.ctrack.transport.PacketWorker;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open vSwitch's {@code test-conntrack benchmark N_THREADS N_PKTS BATCH}: each thread sends N_PKTS packets of
 * its own UDP connection (10.1.1.1:(1+tid) -> 10.1.1.2:2, commit, zone 0) in batches of BATCH, here through the
 * full path, and the total time is printed as {@code conntrack:  N ms}.
 */
@Command(name = "established", mixinStandardHelpOptions = true,
    description = "Open vSwitch's 'test-conntrack benchmark': N_THREADS threads x N_PKTS packets of one established UDP connection each, in batches of BATCH.")
final class EstablishedBench implements Runnable
{
    @Parameters(index = "0", paramLabel = "N_THREADS")
    private int threads;

    @Parameters(index = "1", paramLabel = "N_PKTS")
    private long packets;

    @Parameters(index = "2", paramLabel = "BATCH")
    private int batch;

    @picocli.CommandLine.Option(names = "--warmup", paramLabel = "N_PKTS", defaultValue = "-1",
        description = "Packets per thread sent before the timed run (default: N_PKTS), so the JIT has compiled the path; "
            + "0 times a cold start.")
    private long warmup;

    @Mixin
    private BenchNode nodeOptions;

    @Override
    public void run()
    {
        if (threads < 1 || threads > 64 || packets < 1 || batch < 1 || batch > PacketWorker.MAX_BATCH)
        {
            throw new UserError("need 1-64 threads, at least 1 packet and a batch of 1-" + PacketWorker.MAX_BATCH);
        }
        final PrintStream out = System.out;
        try (ShardedNode node = nodeOptions.start(3_000_000))
        {
            final long warmupPackets = warmup < 0 ? packets : warmup;
            final CyclicBarrier barrier = new CyclicBarrier(threads + 1);
            final AtomicLong unexpected = new AtomicLong();
            final Histogram latency = new Histogram(3_600_000_000_000L, 3);
            final Thread[] workers = new Thread[threads];
            final RuntimeException[] failure = new RuntimeException[1];
            for (int t = 0; t < threads; t++)
            {
                final PacketWorker worker = node.newWorker(nodeOptions.inFlight);
                final int tid = t;
                workers[t] = new Thread(() ->
                {
                    try
                    {
                        final Histogram h = run(worker, tid, barrier, unexpected, warmupPackets);
                        synchronized (latency)
                        {
                            latency.add(h);
                        }
                    }
                    catch (final RuntimeException ex)
                    {
                        failure[0] = ex;
                    }
                }, "ct_thread-" + t);
                workers[t].start();
            }
            long coldStart = System.nanoTime();
            await(barrier);
            coldStart = System.nanoTime();
            await(barrier);
            final long warmNs = System.nanoTime() - coldStart;
            await(barrier);
            final long start = System.nanoTime();
            await(barrier);
            final long elapsedNs = System.nanoTime() - start;
            for (final Thread worker : workers)
            {
                join(worker);
            }
            if (failure[0] != null)
            {
                throw failure[0];
            }
            out.printf("conntrack:  %5d ms%n", elapsedNs / 1_000_000);
            if (warmupPackets > 0)
            {
                out.printf("(after a warm-up pass of %d packets per thread that took %d ms, JIT compilation included)%n",
                    warmupPackets, warmNs / 1_000_000);
            }
            final long total = packets * threads;
            out.printf("%d packets through the full path (%s): %.1f ns per packet, %.2f Mpps%n", total,
                nodeOptions.describe(), (double)elapsedNs / total, total * 1e3 / elapsedNs);
            BenchCommand.printLatency(out, "batch round trip", latency);
            out.printf("verdicts other than new/est: %d%n", unexpected.get());
            BenchCommand.printPressure(out, node);
        }
    }

    private Histogram run(final PacketWorker worker, final int tid, final CyclicBarrier barrier,
        final AtomicLong unexpected, final long warmupPackets)
    {
        final UnsafeBuffer packetBytes = new UnsafeBuffer(new byte[batch * OvsPackets.STRIDE]);
        final FrameBatch frames = new FrameBatch(batch);
        for (int i = 0; i < batch; i++)
        {
            OvsPackets.udp(packetBytes, i * OvsPackets.STRIDE, 1 + tid, 2);
            frames.add(packetBytes, i * OvsPackets.STRIDE, OvsPackets.LENGTH);
        }
        final ExecParams params = ExecParams.commit(0);
        final Verdict verdict = new Verdict();
        final long[] bad = new long[1];
        final Pipeline pipeline = new Pipeline(worker, nodeOptions.inFlight, batch).check((verdicts, offset, tag) ->
        {
            // Look at the first and last verdict of every batch: all must be tracked new or est.
            final int first = verdict.wrap(verdicts, offset).ctState();
            final int last = verdict.wrap(verdicts, offset + (batch - 1) * Verdict.LENGTH).ctState();
            if ((first & (CtState.NEW | CtState.ESTABLISHED)) == 0 || (first & CtState.INVALID) != 0
                || (last & (CtState.NEW | CtState.ESTABLISHED)) == 0 || (last & CtState.INVALID) != 0)
            {
                bad[0]++;
            }
        });
        final long nowMs = System.currentTimeMillis();
        // Warm-up pass (untimed; its latencies are not kept), then the timed pass.
        await(barrier);
        pipeline.recording(false);
        for (long sent = 0; sent < warmupPackets; sent += batch)
        {
            pipeline.submit(frames, params, nowMs, sent);
        }
        pipeline.drain();
        pipeline.recording(true);
        await(barrier);
        await(barrier);
        for (long sent = 0; sent < packets; sent += batch)
        {
            pipeline.submit(frames, params, nowMs, sent);
        }
        pipeline.drain();
        await(barrier);
        unexpected.addAndGet(bad[0]);
        return pipeline.latency();
    }

    static void await(final CyclicBarrier barrier)
    {
        try
        {
            barrier.await();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException("barrier broken", ex);
        }
    }

    static void join(final Thread thread)
    {
        try
        {
            thread.join();
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
