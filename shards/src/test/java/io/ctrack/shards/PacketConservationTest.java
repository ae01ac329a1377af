package io.ctrack.shards;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Invariant 7, nothing lost silently: with several workers, many buckets and random traffic, every packet offered
 * gets exactly one verdict (no slot left as it was before), and every dropped verdict names a reason whose counter
 * equals the number of such verdicts, summed over workers and buckets. Under forced back-pressure, and with buckets
 * failing in the middle of batches.
 */
@ExtendWith(LogCapturingExtension.class)
class PacketConservationTest
{
    private static final EngineCounter[] DROP_REASONS = {
        EngineCounter.DROPPED_BACK_PRESSURE, EngineCounter.DROPPED_VERDICT_TIMEOUT,
        EngineCounter.DROPPED_BUCKET_FAILURE, EngineCounter.DROPPED_NO_WORKER, EngineCounter.DROPPED_BAD_BATCH };

    @Test
    @Timeout(60)
    void shouldAccountForEveryPacketUnderBackPressure() throws Exception
    {
        final NodeSettings settings = NodeTesting.withTransport(NodeTesting.settings("conserve-bp", 16), 64 * 1024,
            TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(3));
        final ShardedNode node = ShardedNode.start(settings);
        try
        {
            final Tally tally = run(node, 3, 150, 1024, 64, false);

            assertTrue(tally.dropped(EngineCounter.DROPPED_BACK_PRESSURE) > 0,
                "the test must force back-pressure: " + tally);
            assertTrue(tally.tracked > 0, "and some packets must get through: " + tally);
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    @Test
    @Timeout(60)
    void shouldAccountForEveryPacketWhenBucketsFailInsideBatches() throws Exception
    {
        // A short verdict timeout bounds the run if a bucket misses a wake-up (see BucketWakeUpTest).
        final NodeSettings settings = NodeTesting.settings("conserve-fail", 16);
        final ShardedNode node = ShardedNode.start(NodeTesting.withTransport(settings,
            settings.transport().termLength(), settings.transport().publishTimeoutNs(), TimeUnit.SECONDS.toNanos(3)));
        try
        {
            final Tally tally = run(node, 3, 400, 128, 16, true);

            assertTrue(tally.dropped(EngineCounter.DROPPED_BUCKET_FAILURE) > 0, "faults fired inside batches: " + tally);
            long restarts = 0;
            for (int b = 0; b < node.buckets(); b++)
            {
                restarts += node.bucketRestarts(b);
            }
            assertTrue(restarts > 0, "the supervisor restarted failed buckets");
            assertTrue(restarts <= tally.faultsSent, restarts + " restarts for " + tally.faultsSent + " faults");
            assertTrue(restarts <= tally.dropped(EngineCounter.DROPPED_BUCKET_FAILURE),
                "every fault that fired dropped the request it fired on");
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    /** What the workers saw, and what the node counted. */
    private static final class Tally
    {
        long offered;
        long tracked;
        long faultsSent;
        final Map<Integer, Long> droppedByReason = new TreeMap<>();

        long dropped(final EngineCounter reason)
        {
            return droppedByReason.getOrDefault(reason.id(), 0L);
        }

        @Override
        public String toString()
        {
            return "offered " + offered + ", tracked " + tracked + ", dropped by reason " + droppedByReason
                + ", faults sent " + faultsSent;
        }
    }

    /** One packet thread: submits random batches, keeps up to {@code maxInFlight} in flight, keeps every answer. */
    private static final class Load implements Runnable
    {
        final PacketWorker worker;
        final List<byte[]> frames;
        final Random random;
        final int batches;
        final int maxBatch;
        final List<UnsafeBuffer> answers = new ArrayList<>();
        final List<Integer> sizes = new ArrayList<>();
        int completions;
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Load(final PacketWorker worker, final List<byte[]> frames, final long seed, final int batches,
            final int maxBatch)
        {
            this.worker = worker;
            this.frames = frames;
            this.random = new Random(seed);
            this.batches = batches;
            this.maxBatch = maxBatch;
        }

        @Override
        public void run()
        {
            try
            {
                worker.completion((seq, tag) -> completions++);
                final FrameBatch batch = new FrameBatch(maxBatch);
                final ExecParams params = ExecParams.commit(0);
                int cursor = 0;
                for (int k = 0; k < batches; k++)
                {
                    final int n = 1 + random.nextInt(maxBatch);
                    batch.clear();
                    for (int i = 0; i < n; i++)
                    {
                        final byte[] frame = frames.get(cursor++ % frames.size());
                        batch.add(new UnsafeBuffer(frame), 0, frame.length);
                    }
                    final UnsafeBuffer out = Traffic.poisoned(n);
                    while (worker.submit(batch, params, System.currentTimeMillis(), out, 0, k) < 0)
                    {
                        if (worker.poll() == 0)
                        {
                            Thread.yield();
                        }
                    }
                    answers.add(out);
                    sizes.add(n);
                }
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (worker.inFlight() > 0)
                {
                    if (System.nanoTime() - deadline > 0)
                    {
                        throw new AssertionError(worker.inFlight() + " batches never completed");
                    }
                    if (worker.poll() == 0)
                    {
                        Thread.yield();
                    }
                }
            }
            catch (final Throwable t)
            {
                failure.set(t);
            }
        }
    }

    private static Tally run(final ShardedNode node, final int workers, final int batchesPerWorker, final int maxBatch,
        final int maxInFlight, final boolean injectFaults) throws Exception
    {
        final List<Load> loads = new ArrayList<>();
        final List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < workers; w++)
        {
            final List<byte[]> frames = Traffic.mixed(new Random(w), 1200, 20_000 * (w + 1));
            final Load load = new Load(node.newWorker(maxInFlight), frames, 100 + w, batchesPerWorker, maxBatch);
            loads.add(load);
            threads.add(new Thread(load, "packet-thread-" + w));
        }
        final Tally tally = new Tally();
        threads.forEach(Thread::start);
        final Random chaos = new Random(7);
        final AtomicBoolean running = new AtomicBoolean(true);
        while (running.get())
        {
            running.set(threads.stream().anyMatch(Thread::isAlive));
            if (injectFaults && running.get())
            {
                final int bucket = chaos.nextInt(node.buckets());
                node.bucketRefs().get(bucket).tell(new BucketActor.InjectFault("chaos drill", chaos.nextInt(40)));
                tally.faultsSent++;
            }
            Thread.sleep(injectFaults ? 2 : 20);
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }

        for (final Load load : loads)
        {
            assertNull(load.failure.get(), () -> "packet thread failed: " + load.failure.get());
            assertEquals(load.batches, load.completions, "every batch completes exactly once");
            for (int k = 0; k < load.answers.size(); k++)
            {
                final UnsafeBuffer out = load.answers.get(k);
                for (int i = 0; i < load.sizes.get(k); i++)
                {
                    tally.offered++;
                    final Verdict v = verdict(out, i);
                    if (out.getLong(i * Verdict.LENGTH) == 0xA5A5_A5A5_A5A5_A5A5L
                        || out.getLong(i * Verdict.LENGTH + 8) == 0xA5A5_A5A5_A5A5_A5A5L)
                    {
                        fail("verdict slot " + i + " of batch " + k + " was never written");
                    }
                    assertEquals(0, v.flags() & ~(Verdict.FLAG_HELD | Verdict.FLAG_DROPPED | Verdict.FLAG_LABEL),
                        "flags of slot " + i + " of batch " + k);
                    if ((v.flags() & Verdict.FLAG_DROPPED) != 0)
                    {
                        tally.droppedByReason.merge(v.reason(), 1L, Long::sum);
                    }
                    else
                    {
                        tally.tracked++;
                    }
                }
            }
        }

        final long[] totals = node.counterTotals();
        long dropped = 0;
        for (final long n : tally.droppedByReason.values())
        {
            dropped += n;
        }
        assertEquals(tally.offered, tally.tracked + dropped, tally.toString());
        assertEquals(tally.offered, totals[EngineCounter.PACKETS.id()], "packets counted by the workers");
        for (final EngineCounter reason : DROP_REASONS)
        {
            assertEquals(totals[reason.id()], tally.dropped(reason), reason + " counter against verdicts: " + tally);
        }
        for (final int reason : tally.droppedByReason.keySet())
        {
            assertTrue(List.of(DROP_REASONS).contains(EngineCounter.byId(reason)), "unexpected drop reason " + reason);
        }
        assertTrue(totals[EngineCounter.REQUESTS.id()] + tally.dropped(EngineCounter.DROPPED_BACK_PRESSURE)
            <= tally.offered, "no request tracked twice");
        // The shared limits and the tables agree, whatever failed on the way.
        assertEquals(node.limits().count(), NodeTesting.countConnections(node), "connection counts drifted");
        return tally;
    }
}
