package io.ctrack.transport;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static io.ctrack.engine.testing.Traffic.batchOf;
import static io.ctrack.engine.testing.Traffic.poisoned;
import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PacketWorkerTest
{

    @ParameterizedTest
    @ValueSource(ints = { 2, 3, 4 })
    @Timeout(60)
    void shouldAnswerEveryPacketAtItsPositionAsTheEmbeddedEngineDoes(final int bucketBits)
    {
        final Random random = new Random(17 + bucketBits);
        final List<byte[]> frames = Traffic.mixed(random, 400, 1);
        final Conntrack embedded = new Conntrack();
        final ExecParams params = ExecParams.commit(0);
        long answeredByWorker = 0;
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), bucketBits))
        {
            final PacketWorker worker = harness.worker(0, 4);
            long nowMs = 1_000_000;
            for (int first = 0; first < frames.size(); )
            {
                final int n = Math.min(1 + random.nextInt(64), frames.size() - first);
                final FrameBatch batch = batchOf(frames.subList(first, first + n));
                final UnsafeBuffer viaWorker = poisoned(n);
                final UnsafeBuffer viaEngine = poisoned(n);

                final long requestsBefore = harness.bucketTotal(EngineCounter.REQUESTS);
                assertTrue(worker.submit(batch, params, nowMs, viaWorker, 0, first) >= 0);
                harness.pump(worker, () -> worker.inFlight() == 0);
                embedded.execute(batch, params, nowMs, viaEngine, 0);

                for (int i = 0; i < n; i++)
                {
                    assertEquals(Traffic.describe(verdict(viaEngine, i)), Traffic.describe(verdict(viaWorker, i)),
                        "frame " + (first + i) + " (position " + i + " of a batch of " + n + ")");
                }
                answeredByWorker += n - (harness.bucketTotal(EngineCounter.REQUESTS) - requestsBefore);
                first += n;
                nowMs += 7;
            }
            assertEquals(frames.size(), worker.counters().get(EngineCounter.PACKETS));
            assertEquals(frames.size() - answeredByWorker, harness.bucketTotal(EngineCounter.REQUESTS));
            for (int b = 0; b < harness.buckets(); b++)
            {
                assertTrue(harness.bucketCounters[b].get(EngineCounter.REQUESTS) > 0, "bucket " + b + " got no traffic");
            }
            assertEquals(embedded.counter(EngineCounter.CONN_CREATED), harness.bucketTotal(EngineCounter.CONN_CREATED));
            assertEquals(0, worker.counters().get(EngineCounter.DROPPED_BACK_PRESSURE));
            assertEquals(0, worker.counters().get(EngineCounter.DROPPED_VERDICT_TIMEOUT));
        }
    }

    @Test
    @Timeout(30)
    void shouldCompleteEveryBatchInFlightOnceWithItsTag()
    {
        final int maxInFlight = 8;
        final Random random = new Random(3);
        final List<byte[]> frames = Traffic.mixed(random, 200, 5000);
        final Conntrack embedded = new Conntrack();
        final ExecParams params = ExecParams.commit(0);
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 3))
        {
            final Map<Integer, Long> completed = new HashMap<>();
            final List<Integer> completions = new ArrayList<>();
            final PacketWorker worker = harness.worker(0, maxInFlight).completion((seq, tag) ->
            {
                completions.add(seq);
                completed.put(seq, tag);
            });
            final int perBatch = frames.size() / maxInFlight;
            final UnsafeBuffer[] viaWorker = new UnsafeBuffer[maxInFlight];
            final FrameBatch[] batches = new FrameBatch[maxInFlight];
            for (int k = 0; k < maxInFlight; k++)
            {
                batches[k] = batchOf(frames.subList(k * perBatch, (k + 1) * perBatch));
                viaWorker[k] = poisoned(perBatch);
                assertEquals(k, worker.submit(batches[k], params, 1000, viaWorker[k], 0, 100 + k));
            }
            assertEquals(maxInFlight, worker.inFlight());
            assertEquals(-1, worker.submit(batches[0], params, 1000, poisoned(perBatch), 0, 999),
                "every in-flight slot is taken");
            assertTrue(completions.isEmpty());

            harness.pump(worker, () -> worker.inFlight() == 0);

            assertEquals(maxInFlight, completions.size(), "each batch completes once: " + completions);
            for (int k = 0; k < maxInFlight; k++)
            {
                assertEquals(100L + k, completed.get(k));
                final UnsafeBuffer viaEngine = poisoned(perBatch);
                embedded.execute(batches[k], params, 1000, viaEngine, 0);
                for (int i = 0; i < perBatch; i++)
                {
                    assertEquals(Traffic.describe(verdict(viaEngine, i)), Traffic.describe(verdict(viaWorker[k], i)),
                        "batch " + k + " position " + i);
                }
            }
            // The refused submit took no sequence number.
            assertEquals(maxInFlight, worker.submit(batches[0], params, 2000, poisoned(perBatch), 0, 7));
        }
    }

    @Test
    @Timeout(30)
    void shouldGiveEveryFragmentOfADatagramItsVerdictWithinABatch()
    {
        final PacketBuilder datagram = TestPackets.ipv4("10.9.0.1", "10.9.0.2").udp(4000, 4789).payload(3000);
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram, 1232, 1232);
        final byte[] other = TestPackets.ipv4("10.9.1.1", "10.9.1.2").udp(1, 2).build();
        final byte[] reply = TestPackets.ipv4("10.9.0.2", "10.9.0.1").udp(4789, 4000).payload(10).build();
        final List<byte[]> frames = List.of(fragments.get(1), other, fragments.get(0), fragments.get(2), reply);
        final ExecParams params = ExecParams.commit(0);
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            final PacketWorker worker = harness.worker(0, 2);
            final UnsafeBuffer viaWorker = poisoned(frames.size());
            worker.submit(batchOf(frames), params, 5000, viaWorker, 0, 0);
            harness.pump(worker, () -> worker.inFlight() == 0);

            final UnsafeBuffer viaEngine = poisoned(frames.size());
            new Conntrack().execute(batchOf(frames), params, 5000, viaEngine, 0);
            for (int i = 0; i < frames.size(); i++)
            {
                assertEquals(Traffic.describe(verdict(viaEngine, i)), Traffic.describe(verdict(viaWorker, i)),
                    "position " + i);
            }
            final long connId = verdict(viaWorker, 0).connId();
            assertNotEquals(0, connId);
            for (final int position : new int[] { 0, 2, 3 })
            {
                assertEquals("new|trk", CtState.format(verdict(viaWorker, position).ctState()), "fragment at " + position);
                assertEquals(connId, verdict(viaWorker, position).connId(), "fragment at " + position);
            }
            assertEquals("est|rpl|trk", CtState.format(verdict(viaWorker, 4).ctState()), "the reply");
            assertEquals(connId, verdict(viaWorker, 4).connId());
            assertEquals(1, worker.counters().get(EngineCounter.FRAG_REASSEMBLED));
        }
    }

    @Test
    @Timeout(30)
    void shouldReportVerdictsOfFragmentsHeldInEarlierBatchesToTheListener()
    {
        final PacketBuilder datagram = TestPackets.ipv4("10.9.0.1", "10.9.0.2").udp(4000, 4789).payload(3000);
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram, 1232, 1232);
        final ExecParams params = ExecParams.commit(0);
        final Map<Long, String> heard = new HashMap<>();
        final Map<Long, String> heardByEngine = new HashMap<>();
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            final PacketWorker worker = harness.worker(0, 2).fragmentListener(listener(heard));
            final Conntrack embedded = new Conntrack().fragmentListener(listener(heardByEngine));

            final UnsafeBuffer first = poisoned(2);
            worker.submit(batchOf(fragments.subList(0, 2)), params, 5000, first, 0, 0);
            harness.pump(worker, () -> worker.inFlight() == 0);
            assertEquals(Verdict.FLAG_HELD, verdict(first, 0).flags());
            assertEquals(Verdict.FLAG_HELD, verdict(first, 1).flags());
            assertEquals(0, harness.bucketTotal(EngineCounter.REQUESTS), "held fragments need no bucket");

            final UnsafeBuffer second = poisoned(1);
            worker.submit(batchOf(fragments.subList(2, 3)), params, 5001, second, 0, 0);
            harness.pump(worker, () -> worker.inFlight() == 0);
            assertEquals("new|trk", CtState.format(verdict(second, 0).ctState()));

            embedded.execute(batchOf(fragments.subList(0, 2)), params, 5000, poisoned(2), 0);
            embedded.execute(batchOf(fragments.subList(2, 3)), params, 5001, poisoned(1), 0);
            assertEquals(heardByEngine, heard);
            assertEquals(2, heard.size(), "tags 1 and 2, the held fragments: " + heard);
            assertTrue(heard.get(1L).startsWith("new|trk"), heard.toString());
            assertTrue(heard.get(2L).startsWith("new|trk"), heard.toString());
        }
    }

    @Test
    @Timeout(30)
    void shouldAnswerPacketsThatNeedNoBucketWithinSubmit()
    {
        final List<byte[]> frames = List.of(
            TestPackets.arpRequest("10.0.0.1", "10.0.0.2"),
            TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).badL4Checksum().build(),
            TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).moreFragments().payload(1300).build());
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            final AtomicBoolean completed = new AtomicBoolean();
            final PacketWorker worker = harness.worker(0, 1).completion((seq, tag) -> completed.set(true));
            final UnsafeBuffer viaWorker = poisoned(frames.size());

            assertEquals(0, worker.submit(batchOf(frames), ExecParams.commit(0), 1, viaWorker, 0, 0));

            assertTrue(completed.get(), "completed inside submit: nothing to wait for");
            assertEquals(0, worker.inFlight());
            final UnsafeBuffer viaEngine = poisoned(frames.size());
            new Conntrack().execute(batchOf(frames), ExecParams.commit(0), 1, viaEngine, 0);
            for (int i = 0; i < frames.size(); i++)
            {
                assertEquals(Traffic.describe(verdict(viaEngine, i)), Traffic.describe(verdict(viaWorker, i)), "frame " + i);
            }
            assertEquals("inv|trk", CtState.format(verdict(viaWorker, 1).ctState()));
            assertEquals(Verdict.FLAG_HELD, verdict(viaWorker, 2).flags());
            assertEquals(0, harness.pollBuckets(), "nothing was published");
            assertEquals(0, harness.bucketTotal(EngineCounter.REQUESTS));
        }
    }

    @Test
    @Timeout(30)
    void shouldReachEveryBucketWholeWithASinglePassBatchOf256WithTheDefaultFrames()
    {
        // What lets a pipeline overlap batches of 256 (OverlappedPipeline): each bucket's share in one message.
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            assertEquals(286, harness.worker(0, 1).singlePassCapacity(), "64-byte requests with 48-byte fields");
        }
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig().withMtu(8192), 0))
        {
            assertEquals(71, harness.worker(0, 1).singlePassCapacity());
        }
    }

    @Test
    @Timeout(30)
    void shouldSplitABatchTooLargeForOneFrameAndCollectEveryVerdict()
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < PacketWorker.MAX_BATCH; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).udp(1000 + i, 53).build());
        }
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig().withMtu(8192), 0))
        {
            final PacketWorker worker = harness.worker(0, 1);
            final UnsafeBuffer viaWorker = poisoned(frames.size());
            worker.submit(batchOf(frames), ExecParams.commit(0), 1, viaWorker, 0, 0);
            int messages = 0;
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (worker.inFlight() > 0 && System.nanoTime() < deadline)
            {
                messages += harness.pollBuckets();
                worker.poll();
            }
            assertEquals(0, worker.inFlight());
            assertEquals((PacketWorker.MAX_BATCH + 121) / 122, messages, "one message per 122 requests (MTU 8192)");
            for (int i = 0; i < frames.size(); i++)
            {
                assertEquals("new|trk", CtState.format(verdict(viaWorker, i).ctState()), "position " + i);
                assertEquals(0, verdict(viaWorker, i).flags(), "position " + i);
            }
            assertEquals(PacketWorker.MAX_BATCH, harness.bucketTotal(EngineCounter.CONN_CREATED));
        }
    }

    @Test
    @Timeout(30)
    void shouldTrackSynchronouslyWithABucketOnAnotherThread() throws Exception
    {
        final Random random = new Random(11);
        final List<byte[]> frames = Traffic.mixed(random, 300, 9000);
        final Conntrack embedded = new Conntrack();
        final ExecParams params = ExecParams.commit(4);
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            final PacketWorker worker = harness.worker(0, 1);
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicReference<Throwable> failure = new AtomicReference<>();
            final Thread buckets = new Thread(() ->
            {
                try
                {
                    while (running.get())
                    {
                        if (harness.pollBuckets() == 0)
                        {
                            Thread.onSpinWait();
                        }
                    }
                }
                catch (final Throwable t)
                {
                    failure.set(t);
                }
            }, "buckets");
            buckets.start();
            try
            {
                for (int first = 0; first < frames.size(); first += 32)
                {
                    final int n = Math.min(32, frames.size() - first);
                    final FrameBatch batch = batchOf(frames.subList(first, first + n));
                    final UnsafeBuffer viaWorker = poisoned(n);
                    final UnsafeBuffer viaEngine = poisoned(n);
                    worker.process(batch, params, 42 + first, viaWorker, 0);
                    embedded.execute(batch, params, 42 + first, viaEngine, 0);
                    for (int i = 0; i < n; i++)
                    {
                        assertEquals(Traffic.describe(verdict(viaEngine, i)), Traffic.describe(verdict(viaWorker, i)),
                            "frame " + (first + i));
                    }
                }
            }
            finally
            {
                running.set(false);
                buckets.join(10_000);
            }
            assertEquals(null, failure.get());
        }
    }

    @Test
    @Timeout(30)
    void shouldDropWithBackPressureWhenABucketStreamStaysFull()
    {
        final TransportConfig config = BucketHarness.config(64 * 1024, TimeUnit.MILLISECONDS.toNanos(1),
            TimeUnit.MILLISECONDS.toNanos(300));
        final int perBatch = 64;
        final int batches = 40;
        try (BucketHarness harness = new BucketHarness(config, 0))
        {
            final List<Integer> completed = new ArrayList<>();
            final PacketWorker worker = harness.worker(0, 64).completion((seq, tag) -> completed.add(seq));
            final List<UnsafeBuffer> verdicts = new ArrayList<>();
            for (int k = 0; k < batches; k++)
            {
                final List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < perBatch; i++)
                {
                    final int n = k * perBatch + i;
                    frames.add(TestPackets.ipv4(Traffic.v4Client(n), Traffic.v4Server(n)).udp(2000, 53).build());
                }
                final UnsafeBuffer out = poisoned(perBatch);
                verdicts.add(out);
                // The bucket is never polled: its stream fills up.
                assertEquals(k, worker.submit(batchOf(frames), ExecParams.commit(0), 1, out, 0, k));
            }
            final long dropped = worker.counters().get(EngineCounter.DROPPED_BACK_PRESSURE);
            assertTrue(dropped > 0, "a 64 KiB term cannot hold 40 batches of 64 requests");
            assertTrue(worker.counters().get(EngineCounter.PUBLISH_RETRIES) > 0);
            assertEquals(0, dropped % perBatch, "whole batch messages are dropped");

            // The published batches are never answered: they end by the verdict timeout.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (worker.inFlight() > 0 && System.nanoTime() < deadline)
            {
                worker.poll();
                Thread.onSpinWait();
            }
            assertEquals(0, worker.inFlight());
            assertEquals(batches, completed.size());

            final Map<Integer, Long> byReason = new HashMap<>();
            for (final UnsafeBuffer out : verdicts)
            {
                for (int i = 0; i < perBatch; i++)
                {
                    final Verdict v = verdict(out, i);
                    assertEquals(Verdict.FLAG_DROPPED, v.flags(), "every packet was dropped, one way or the other");
                    byReason.merge(v.reason(), 1L, Long::sum);
                }
            }
            assertEquals(dropped, byReason.getOrDefault(EngineCounter.DROPPED_BACK_PRESSURE.id(), 0L));
            assertEquals(worker.counters().get(EngineCounter.DROPPED_VERDICT_TIMEOUT),
                byReason.getOrDefault(EngineCounter.DROPPED_VERDICT_TIMEOUT.id(), 0L));
            assertEquals((long)batches * perBatch, byReason.values().stream().mapToLong(Long::longValue).sum());
            assertEquals(2, byReason.size(), byReason.toString());

            // Once the bucket drains its stream, new batches get through again.
            final long requestsBefore = harness.bucketTotal(EngineCounter.REQUESTS);
            // Until the stream is empty, including the batches held back while the worker's verdict stream is full
            // (the worker's polls make room, which its publication sees when the driver's conductor next runs).
            final long drainUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((harness.pollBuckets() > 0 || harness.endpoints[0].heldBack()) && System.nanoTime() < drainUntil)
            {
                worker.poll();
            }
            assertEquals(batches * perBatch - dropped, harness.bucketTotal(EngineCounter.REQUESTS) - requestsBefore,
                "the bucket tracks exactly the batches that were published, late");
            // The publisher's limit moves when the driver's conductor next runs (its own thread here), and the
            // publish timeout is 1 ms: on a loaded machine the first try may still meet back-pressure.
            final UnsafeBuffer after = poisoned(1);
            final long retryUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            Verdict last;
            do
            {
                worker.submit(batchOf(List.of(TestPackets.ipv4("10.99.0.1", "10.99.0.2").udp(1, 2).build())),
                    ExecParams.commit(0), 2, after, 0, 0);
                harness.pump(worker, () -> worker.inFlight() == 0);
                last = verdict(after, 0);
            }
            while (last.reason() == EngineCounter.DROPPED_BACK_PRESSURE.id() && System.nanoTime() < retryUntil);
            final Verdict answered = last;
            assertEquals("new|trk", CtState.format(answered.ctState()), () -> "flags " + answered.flags() + " reason "
                + EngineCounter.byId(answered.reason()));
        }
    }

    /**
     * A batch whose publication is still retrying back-pressure when its own verdict timeout passes (four bucket
     * streams, none polled, each retried up to the publish timeout, together longer than the verdict timeout): the
     * worker's retry loop polls, and that poll must not expire the batch being submitted, or its packets would be
     * counted as timed out and again as back-pressured, and their verdicts rewritten after the completion callback.
     */
    @Test
    @Timeout(30)
    void shouldCountEachDroppedPacketOnceWhenTheVerdictTimeoutPassesDuringBackPressure()
    {
        final TransportConfig config = BucketHarness.config(64 * 1024, TimeUnit.MILLISECONDS.toNanos(20),
            TimeUnit.MILLISECONDS.toNanos(30));
        final int perBatch = 64;
        final int batches = 48;
        try (BucketHarness harness = new BucketHarness(config, 2))
        {
            final Map<Long, String> atCompletion = new HashMap<>();
            final List<UnsafeBuffer> outs = new ArrayList<>();
            final PacketWorker worker = harness.worker(0, 64).completion((seq, tag) ->
                atCompletion.merge(tag, reasons(outs.get((int)tag), perBatch), (a, b) -> "completed twice"));
            for (int k = 0; k < batches; k++)
            {
                final List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < perBatch; i++)
                {
                    final int n = k * perBatch + i;
                    // TCP: requests in the 40-byte form, so that 48 batches overfill the 64 KiB terms.
                    frames.add(TestPackets.ipv4(Traffic.v4Client(n), Traffic.v4Server(n)).tcp(2000, 80)
                        .flags(TestPackets.SYN).build());
                }
                outs.add(poisoned(perBatch));
                worker.submit(batchOf(frames), ExecParams.commit(0), 1, outs.get(k), 0, k);
            }
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (worker.inFlight() > 0 && System.nanoTime() < deadline)
            {
                worker.poll();
            }
            assertTrue(worker.counters().get(EngineCounter.DROPPED_BACK_PRESSURE) > 0, "back-pressure happened");

            long droppedVerdicts = 0;
            for (int k = 0; k < batches; k++)
            {
                for (int i = 0; i < perBatch; i++)
                {
                    droppedVerdicts += (verdict(outs.get(k), i).flags() & Verdict.FLAG_DROPPED) != 0 ? 1 : 0;
                }
                assertEquals(atCompletion.get((long)k), reasons(outs.get(k), perBatch),
                    "batch " + k + ": verdicts changed after its completion callback");
            }
            assertEquals((long)batches * perBatch, droppedVerdicts);
            assertEquals(droppedVerdicts, worker.counters().get(EngineCounter.DROPPED_BACK_PRESSURE)
                + worker.counters().get(EngineCounter.DROPPED_VERDICT_TIMEOUT), "each dropped packet counted once");
        }
    }

    @Test
    void shouldRefuseAVerdictTimeoutNoLongerThanThePublishTimeout()
    {
        final IllegalArgumentException ex = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
            () -> BucketHarness.config(64 * 1024, TimeUnit.MILLISECONDS.toNanos(100), TimeUnit.MILLISECONDS.toNanos(20)));
        assertTrue(ex.getMessage().contains("verdict timeout"), ex.getMessage());
    }

    @Test
    @Timeout(30)
    void shouldAnswerVerdictTimeoutForPacketsOfABucketThatNeverAnswers()
    {
        final TransportConfig config = BucketHarness.config(TransportConfig.DEFAULT_TERM_LENGTH,
            TimeUnit.MILLISECONDS.toNanos(50), TimeUnit.MILLISECONDS.toNanos(150));
        final ConntrackDriver keys = new ConntrackDriver();
        final List<byte[]> frames = new ArrayList<>();
        final List<Integer> bucketOf = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            final byte[] frame = TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).udp(3000 + i, 53).build();
            frames.add(frame);
            bucketOf.add(PacketWorker.bucketOf(keys.key(frame, 0).hash(), 1));
        }
        assertTrue(bucketOf.contains(0) && bucketOf.contains(1), "traffic for both buckets");
        try (BucketHarness harness = new BucketHarness(config, 1))
        {
            final List<Long> completions = new ArrayList<>();
            final PacketWorker worker = harness.worker(0, 2).completion((seq, tag) -> completions.add(tag));
            final UnsafeBuffer out = poisoned(frames.size());
            final long start = System.nanoTime();
            worker.submit(batchOf(frames), ExecParams.commit(0), 1, out, 0, 77);
            final long deadline = start + TimeUnit.SECONDS.toNanos(10);
            while (worker.inFlight() > 0 && System.nanoTime() < deadline)
            {
                harness.endpoints[0].poll(16, harness.processors[0]);
                worker.poll();
            }
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(150), "completed by the timeout");
            assertEquals(List.of(77L), completions);

            long timedOut = 0;
            for (int i = 0; i < frames.size(); i++)
            {
                final Verdict v = verdict(out, i);
                if (bucketOf.get(i) == 0)
                {
                    assertEquals("new|trk", CtState.format(v.ctState()), "position " + i);
                    assertEquals(0, v.flags());
                }
                else
                {
                    assertEquals(Verdict.FLAG_DROPPED, v.flags(), "position " + i);
                    assertEquals(EngineCounter.DROPPED_VERDICT_TIMEOUT.id(), v.reason(), "position " + i);
                    timedOut++;
                }
            }
            assertEquals(timedOut, worker.counters().get(EngineCounter.DROPPED_VERDICT_TIMEOUT));

            // The silent bucket answers at last: the late verdicts are ignored, the answer given stands.
            final byte[] before = new byte[out.capacity()];
            out.getBytes(0, before);
            assertEquals(1, harness.endpoints[1].poll(16, harness.processors[1]));
            BucketHarness.await(() -> worker.poll() > 0, "late verdicts");
            final byte[] after = new byte[out.capacity()];
            out.getBytes(0, after);
            assertEquals(java.util.HexFormat.of().formatHex(before), java.util.HexFormat.of().formatHex(after));
            assertEquals(1, completions.size());
        }
    }

    @Test
    @Timeout(30)
    void shouldRejectBadArguments()
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 0))
        {
            final EngineCounters counters = new EngineCounters();
            assertThrows(IllegalArgumentException.class, () -> new PacketWorker(0, harness.driver.aeron(),
                harness.config, 17, harness.doorbells, FragConfig.DEFAULT, counters, 1));
            assertThrows(IllegalArgumentException.class, () -> new PacketWorker(0, harness.driver.aeron(),
                harness.config, 0, harness.doorbells, FragConfig.DEFAULT, counters, 3));
            final PacketWorker worker = harness.worker(0, 1);
            final FrameBatch tooLarge = new FrameBatch(PacketWorker.MAX_BATCH + 1);
            final byte[] frame = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).build();
            for (int i = 0; i <= PacketWorker.MAX_BATCH; i++)
            {
                tooLarge.add(TestPackets.buffer(frame), 0, frame.length);
            }
            assertThrows(IllegalArgumentException.class, () -> worker.submit(tooLarge, ExecParams.commit(0), 1,
                poisoned(PacketWorker.MAX_BATCH + 1), 0, 0));
            assertEquals(0, worker.inFlight());
            assertFalse(worker.counters().get(EngineCounter.PACKETS) > 0, "a refused batch is not counted");
        }
    }

    @Test
    void shouldRouteByTheTopBitsOfTheHash()
    {
        assertEquals(0, PacketWorker.bucketOf(0xFFFF_FFFF, 0));
        assertEquals(1, PacketWorker.bucketOf(0x8000_0000, 1));
        assertEquals(0, PacketWorker.bucketOf(0x7FFF_FFFF, 1));
        assertEquals(15, PacketWorker.bucketOf(0xF000_0000, 4));
        assertEquals(0xABC, PacketWorker.bucketOf(0xABC0_0001, 12));
        assertEquals(0xFFFF, PacketWorker.bucketOf(-1, 16));
    }

    /** Drop reasons of a verdict buffer, counted: {@code {25=64}}. */
    private static String reasons(final UnsafeBuffer verdicts, final int count)
    {
        final java.util.TreeMap<Integer, Integer> byReason = new java.util.TreeMap<>();
        for (int i = 0; i < count; i++)
        {
            final Verdict v = verdict(verdicts, i);
            byReason.merge((v.flags() & Verdict.FLAG_DROPPED) != 0 ? v.reason() : -1, 1, Integer::sum);
        }
        return byReason.toString();
    }


    private static Conntrack.FragmentListener listener(final Map<Long, String> heard)
    {
        return new Conntrack.FragmentListener()
        {
            @Override
            public void onVerdict(final long tag, final Verdict verdict)
            {
                heard.put(tag, Traffic.describe(verdict));
            }

            @Override
            public void onDropped(final long tag)
            {
                heard.put(tag, "dropped");
            }
        };
    }
}
