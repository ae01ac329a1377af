package io.ctrack.transport;

import io.aeron.ExclusivePublication;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.wire.BatchFlyweight;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.ctrack.engine.testing.Traffic.batchOf;
import static io.ctrack.engine.testing.Traffic.poisoned;
import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BucketEndpointTest
{
    private int nextFlow;

    /** {@code n} frames, each the first packet of a UDP flow nobody has seen. */
    private List<byte[]> freshFlows(final int n)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < n; i++)
        {
            final int f = nextFlow++;
            frames.add(TestPackets.ipv4(Traffic.v4Client(f), Traffic.v4Server(f)).udp(1000 + (f & 0x3FFF), 53).build());
        }
        return frames;
    }

    @Test
    @Timeout(30)
    void shouldHoldBackABatchWhileTheWorkersVerdictStreamIsFullAndProcessItOnceLater()
    {
        // Batch streams with room to spare, verdict streams with a small term (the driver updates a publisher's
        // limit only on its duty cycle, so a small batch stream would push back on the worker, which then drains).
        final TransportConfig config = BucketHarness.config(4 << 20, TimeUnit.MILLISECONDS.toNanos(50),
            TimeUnit.SECONDS.toNanos(20));
        final TransportConfig verdictConfig = new TransportConfig(config.aeronDir(), true, 64 * 1024, 8192,
            config.batchStreamBase(), config.verdictStreamBase(), config.publishTimeoutNs(), config.verdictTimeoutNs());
        final int perBatch = 8;
        try (BucketHarness harness = new BucketHarness(config, 0, verdictConfig))
        {
            final BucketEndpoint endpoint = harness.endpoints[0];
            final AtomicInteger processed = new AtomicInteger();
            final BucketEndpoint.BatchProcessor counting = (request, params, nowMs, verdict) ->
            {
                processed.incrementAndGet();
                harness.tables[0].execute(request, params, nowMs, verdict);
            };
            final PacketWorker worker = harness.worker(0, 1024);
            final List<UnsafeBuffer> outs = new ArrayList<>();
            // The worker submits but never polls its verdicts, while the bucket keeps up with its stream.
            while (!endpoint.heldBack())
            {
                final UnsafeBuffer out = poisoned(perBatch);
                outs.add(out);
                assertTrue(worker.submit(batchOf(freshFlows(perBatch)), ExecParams.commit(0), 10, out, 0, 0) >= 0);
                endpoint.poll(16, counting);
                assertTrue(outs.size() < 1000, "the verdict stream never filled");
            }
            assertEquals(0, worker.counters().get(EngineCounter.PUBLISH_RETRIES),
                "the worker never had to wait, so it never drained its verdicts");
            final int processedWhenFull = processed.get();
            assertTrue(processedWhenFull < outs.size() * perBatch, "the last batch waits");
            assertEquals(0, processedWhenFull % perBatch, "a held-back batch is not started");
            for (int i = 0; i < 20; i++)
            {
                assertEquals(0, endpoint.poll(16, counting), "still no room");
                assertTrue(endpoint.heldBack());
            }
            assertEquals(processedWhenFull, processed.get(), "retried polls track nothing");
            assertTrue(harness.bucketCounters[0].get(EngineCounter.VERDICT_BACK_PRESSURE) >= 21);

            // The worker drains: the batch goes through, once.
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (worker.inFlight() > 0 && System.nanoTime() < deadline)
            {
                worker.poll();
                endpoint.poll(16, counting);
            }
            assertEquals(0, worker.inFlight());
            assertFalse(endpoint.heldBack());
            assertEquals(outs.size() * perBatch, processed.get(), "every request tracked exactly once");
            assertEquals(outs.size() * perBatch, harness.bucketCounters[0].get(EngineCounter.REQUESTS));
            assertEquals(outs.size() * perBatch, harness.bucketCounters[0].get(EngineCounter.CONN_CREATED));
            for (final UnsafeBuffer out : outs)
            {
                for (int i = 0; i < perBatch; i++)
                {
                    assertEquals("new|trk", CtState.format(verdict(out, i).ctState()));
                    assertEquals(0, verdict(out, i).flags());
                }
            }
        }
    }

    /**
     * A worker sends each bucket its requests in the shortest form all of them have: 24 bytes for UDP and SCTP, 40
     * for IPv4 with a TCP or ICMP request among them, 64 with an IPv6 one; and every packet's verdict is the same.
     */
    @Test
    @Timeout(30)
    void shouldCarryEachMessagesRequestsInTheShortestFormAllOfThemHave()
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 0))
        {
            final BucketEndpoint endpoint = harness.endpoints[0];
            final List<Integer> lengths = new ArrayList<>();
            final BucketEndpoint.BatchProcessor recording = (request, params, nowMs, verdict) ->
            {
                if (endpoint.currentIndex() == 0)
                {
                    lengths.add(endpoint.currentBatch().requestLength());
                }
                harness.tables[0].execute(request, params, nowMs, verdict);
            };
            final PacketWorker worker = harness.worker(0, 1);
            final List<byte[]> udp = freshFlows(6);
            udp.add(TestPackets.ipv4("10.7.0.1", "10.7.0.2").sctp(5000, 6000).sctpInit().build());
            final List<byte[]> withTcp = freshFlows(5);
            withTcp.add(TestPackets.ipv4("10.7.0.1", "10.7.0.2").tcp(40000, 80).flags(TestPackets.SYN).build());
            final List<byte[]> withIcmp = freshFlows(5);
            withIcmp.add(TestPackets.ipv4("10.7.0.1", "10.7.0.2").echo(8, 7, 1).build());
            final List<byte[]> withIpv6 = freshFlows(5);
            withIpv6.add(TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).build());
            final List<List<byte[]>> batches = List.of(udp, withTcp, withIcmp, withIpv6);
            for (final List<byte[]> frames : batches)
            {
                final UnsafeBuffer out = poisoned(frames.size());
                assertTrue(worker.submit(batchOf(frames), ExecParams.commit(0), 10, out, 0, 0) >= 0);
                BucketHarness.await(() ->
                {
                    endpoint.poll(16, recording);
                    return worker.poll() > 0 && worker.inFlight() == 0;
                }, "verdicts");
                for (int i = 0; i < frames.size(); i++)
                {
                    assertEquals(CtState.NEW | CtState.TRACKED, verdict(out, i).ctState(), "packet " + i);
                }
            }
            assertEquals(List.of(CtRequest.SHORT_LENGTH, CtRequest.COMPACT_LENGTH,
                CtRequest.COMPACT_LENGTH, CtRequest.LENGTH), lengths);
        }
    }

    /**
     * {@code poll} documents that 0 means the stream was empty (or held back). A bucket parks on that answer, and
     * nobody rings it for a batch that was committed before the park (the publisher saw it running).
     */
    @Test
    @Timeout(30)
    void shouldNotAnswerEmptyWhileABatchWaitsBehindTheEndOfATerm()
    {
        final TransportConfig config = BucketHarness.config(64 * 1024, TimeUnit.MILLISECONDS.toNanos(50),
            TimeUnit.SECONDS.toNanos(5));
        try (BucketHarness harness = new BucketHarness(config, 0))
        {
            final PacketWorker worker = harness.worker(0, 1);
            for (int i = 0; i < 100; i++)
            {
                worker.submit(batchOf(freshFlows(20)), ExecParams.commit(0), 1, poisoned(20), 0, i);

                int got = harness.endpoints[0].poll(16, harness.processors[0]);
                // 0 is allowed only when the batch is held back for verdict room (and says so): then it comes later.
                while (got == 0)
                {
                    assertTrue(harness.endpoints[0].heldBack(), "batch " + i + " is in the stream but poll answered empty");
                    worker.poll();
                    got = harness.endpoints[0].poll(16, harness.processors[0]);
                }
                assertEquals(1, got, "batch " + i + " is in the stream");
                BucketHarness.await(() -> worker.poll() > 0 && worker.inFlight() == 0, "verdicts of batch");
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldAnswerAThrowingRequestDroppedAndRethrowAfterTheBatchIsAnswered()
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 0))
        {
            final BucketEndpoint endpoint = harness.endpoints[0];
            final PacketWorker worker = harness.worker(0, 4);
            final UnsafeBuffer first = poisoned(5);
            final UnsafeBuffer second = poisoned(3);
            worker.submit(batchOf(freshFlows(5)), ExecParams.commit(0), 1, first, 0, 0);
            worker.submit(batchOf(freshFlows(3)), ExecParams.commit(0), 1, second, 0, 0);
            final AtomicInteger calls = new AtomicInteger();
            final BucketEndpoint.BatchProcessor failing = (request, params, nowMs, verdict) ->
            {
                final int call = calls.getAndIncrement();
                if (call == 2 || call == 3)
                {
                    throw new IllegalStateException("boom " + call);
                }
                harness.tables[0].execute(request, params, nowMs, verdict);
            };

            final IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> endpoint.poll(16, failing));

            assertEquals("boom 2", thrown.getMessage(), "the first failure is rethrown");
            assertEquals(3, calls.get(), "nothing of the batch is tracked after the failure, and the poll stops");
            assertEquals(3, harness.bucketCounters[0].get(EngineCounter.DROPPED_BUCKET_FAILURE));
            assertEquals(5, harness.bucketCounters[0].get(EngineCounter.REQUESTS));
            BucketHarness.await(() -> worker.poll() > 0, "verdicts of the failed batch");
            for (int i = 0; i < 5; i++)
            {
                final Verdict v = verdict(first, i);
                if (i >= 2)
                {
                    assertEquals(Verdict.FLAG_DROPPED, v.flags(), "position " + i);
                    assertEquals(EngineCounter.DROPPED_BUCKET_FAILURE.id(), v.reason());
                }
                else
                {
                    assertEquals("new|trk", CtState.format(v.ctState()), "position " + i);
                }
            }
            assertEquals(1, endpoint.poll(16, harness.processors[0]), "the next batch on the next poll");
            harness.pump(worker, () -> worker.inFlight() == 0);
            for (int i = 0; i < 3; i++)
            {
                assertEquals("new|trk", CtState.format(verdict(second, i).ctState()));
            }
        }
    }

    @Test
    @Timeout(30)
    void shouldCountABatchOfAnUnknownVersionAndSkipIt()
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 0);
            ExclusivePublication raw = harness.driver.aeron().addExclusivePublication(
                harness.config.publicationChannel(), harness.config.batchStream(0)))
        {
            BucketHarness.await(raw::isConnected, "raw publication connected");
            final UnsafeBuffer message = new UnsafeBuffer(new byte[BatchFlyweight.length(1)]);
            message.putShort(0, (short)(BatchFlyweight.VERSION + 1), java.nio.ByteOrder.LITTLE_ENDIAN);
            message.putShort(2, (short)1, java.nio.ByteOrder.LITTLE_ENDIAN);
            BucketHarness.await(() -> raw.offer(message) > 0, "offer");

            BucketHarness.await(() ->
            {
                harness.endpoints[0].poll(16, harness.processors[0]);
                return harness.bucketCounters[0].get(EngineCounter.DROPPED_BAD_BATCH) == 1;
            }, "bad batch counted");
            assertEquals(0, harness.bucketCounters[0].get(EngineCounter.REQUESTS));
            assertEquals(0, harness.endpoints[0].poll(16, harness.processors[0]));
        }
    }

    @Test
    @Timeout(30)
    void shouldCountVerdictsForAWorkerThatIsGoneAsDropped() throws Exception
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 0))
        {
            final PacketWorker worker = harness.worker(3, 1);
            worker.submit(batchOf(freshFlows(6)), ExecParams.commit(0), 1, poisoned(6), 0, 0);
            worker.close();
            Thread.sleep(300);

            BucketHarness.await(() ->
            {
                harness.endpoints[0].poll(16, harness.processors[0]);
                return harness.bucketCounters[0].get(EngineCounter.DROPPED_NO_WORKER) > 0;
            }, "verdicts for a gone worker counted");
            assertEquals(6, harness.bucketCounters[0].get(EngineCounter.DROPPED_NO_WORKER));
        }
    }

    @Test
    @Timeout(30)
    void shouldKnowItsBucketAndCloseQuietly()
    {
        try (BucketHarness harness = new BucketHarness(BucketHarness.defaultConfig(), 2))
        {
            for (int b = 0; b < 4; b++)
            {
                assertEquals(b, harness.endpoints[b].bucketId());
                assertEquals(0, harness.endpoints[b].poll(16, harness.processors[b]));
                assertFalse(harness.endpoints[b].heldBack());
            }
            harness.endpoints[1].close();
            harness.endpoints[1].close();
        }
    }
}
