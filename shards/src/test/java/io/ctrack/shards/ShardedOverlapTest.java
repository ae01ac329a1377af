package io.ctrack.shards;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.flow.FlowParser;
import io.ctrack.engine.flow.FlowTables;
import io.ctrack.engine.flow.OverlappedPipeline;
import io.ctrack.engine.flow.PipelineRunner;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.RandomPipelines;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.WorkerCtService;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Overlapping single-pass batches through a node of four buckets (up to four batches in flight) against
 * recirculation, one batch at a time, through another: random overlappable pipelines, the classic firewall, random
 * packets, rules changed mid-stream (after a drain); every packet gets the same actions and ct_state.
 */
@ExtendWith(LogCapturingExtension.class)
class ShardedOverlapTest
{
    @ParameterizedTest
    @ValueSource(longs = { 31, 32, 33, 34 })
    @Timeout(120)
    void shouldAgreeWithRecirculationOneBatchAtATime(final long seed)
    {
        final ShardedNode recNode = ShardedNode.start(NodeTesting.settings("overlap-rec", 4));
        final ShardedNode ovNode = ShardedNode.start(NodeTesting.settings("overlap-sp", 4));
        try
        {
            final Random r = new Random(seed);
            final FlowParser parser = new FlowParser(RandomPipelines.NAT);
            final PipelineRunner rec = new PipelineRunner(new WorkerCtService(recNode.newWorker(2)),
                PipelineRunner.Mode.RECIRCULATE, 64);
            final WorkerCtService service = new WorkerCtService(ovNode.newWorker(8));
            final int capacity = Math.min(64, service.maxWholeRun());
            final List<String> expected = new ArrayList<>();
            final List<String> actual = new ArrayList<>();
            final OverlappedPipeline overlapped = new OverlappedPipeline(service, capacity, 4)
                .listener((number, results) ->
                {
                    for (int i = 0; i < results.count(); i++)
                    {
                        actual.add(number + "/" + i + " " + results.describe(i) + " " + CtState.format(results.ctState(i)));
                    }
                });
            // The batches first (and where the rules change), then recirculation over all of them, then the
            // overlapped pipeline over all of them, back to back, so that batches really are in flight together.
            final List<FlowTables> tablesOf = new ArrayList<>();
            final List<byte[][]> framesOf = new ArrayList<>();
            final List<int[]> portsOf = new ArrayList<>();
            FlowTables tables = parser.parse(RandomPipelines.FIREWALL, 1);
            for (int batch = 0; batch < 120; batch++)
            {
                if (batch % 30 == 29)
                {
                    tables = parser.parse(RandomPipelines.randomOverlappable(r), tables.generation() + 1);
                }
                final int n = 1 + r.nextInt(capacity);
                final byte[][] frames = new byte[n][];
                final int[] inPorts = new int[n];
                for (int i = 0; i < n; i++)
                {
                    frames[i] = RandomPipelines.packet(r);
                    inPorts[i] = 1 + r.nextInt(2);
                }
                tablesOf.add(tables);
                framesOf.add(frames);
                portsOf.add(inPorts);
            }
            for (int batch = 0; batch < tablesOf.size(); batch++)
            {
                if (batch == 0 || tablesOf.get(batch) != tablesOf.get(batch - 1))
                {
                    recNode.flowTables(tablesOf.get(batch));
                }
                final byte[][] frames = framesOf.get(batch);
                rec.run(tablesOf.get(batch), Traffic.batchOf(List.of(frames)), portsOf.get(batch), 1_000 + batch * 5L);
                for (int i = 0; i < frames.length; i++)
                {
                    expected.add(batch + "/" + i + " " + rec.describe(i) + " " + CtState.format(rec.ctState(i)));
                }
            }
            for (int batch = 0; batch < tablesOf.size(); batch++)
            {
                if (batch == 0 || tablesOf.get(batch) != tablesOf.get(batch - 1))
                {
                    // The node's rules change only with no batch in flight (the pipeline's contract).
                    overlapped.drain();
                    ovNode.flowTables(tablesOf.get(batch));
                }
                overlapped.submit(tablesOf.get(batch), Traffic.batchOf(List.of(framesOf.get(batch))), portsOf.get(batch),
                    1_000 + batch * 5L);
            }
            overlapped.drain();
            assertEquals(String.join("\n", expected), String.join("\n", actual), "seed " + seed);
            assertEquals(0, overlapped.lateCount());
            assertTrue(overlapped.committedWhereTracked() > 0);
            assertTrue(overlapped.peakInFlight() > 1, "batches overlapped: " + overlapped.peakInFlight());
            assertEquals(0, ovNode.counterTotals()[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()]);
            assertEquals(0, ovNode.counterTotals()[EngineCounter.PIPELINE_SHARES_TOO_LARGE.id()]);
        }
        finally
        {
            NodeTesting.close(recNode);
            NodeTesting.close(ovNode);
        }
    }

    @Test
    @Timeout(60)
    void shouldDeliverEveryBatchWhenABucketFailsWithBatchesInFlight()
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("overlap-fail", 4));
        try
        {
            final FlowTables tables = new FlowParser(RandomPipelines.NAT).parse(RandomPipelines.FIREWALL, 1);
            node.flowTables(tables);
            final OverlappedPipeline overlapped = new OverlappedPipeline(new WorkerCtService(node.newWorker(8)), 32, 4);
            final long[] delivered = { 0, 0 };
            overlapped.listener((number, results) ->
            {
                for (int i = 0; i < results.count(); i++)
                {
                    delivered[0]++;
                    // A packet its bucket dropped has no state and, past table 0, no action.
                    delivered[1] += results.ctState(i) == 0 ? 1 : 0;
                }
            });
            final Random r = new Random(5);
            final int batches = 200;
            for (int batch = 0; batch < batches; batch++)
            {
                if (batch == 60)
                {
                    for (int b = 0; b < node.buckets(); b++)
                    {
                        node.bucketRefs().get(b).tell(new BucketActor.InjectFault("test", 5));
                    }
                }
                final byte[][] frames = new byte[32][];
                final int[] inPorts = new int[32];
                for (int i = 0; i < 32; i++)
                {
                    frames[i] = TestPackets.ipv4("10.0." + r.nextInt(4) + "." + (1 + r.nextInt(50)), "10.9.0.1")
                        .udp(1000 + r.nextInt(8), 53).payload(4).build();
                    inPorts[i] = 1;
                }
                overlapped.submit(tables, Traffic.batchOf(List.of(frames)), inPorts, 1_000 + batch);
            }
            overlapped.drain();
            assertEquals(batches * 32L, delivered[0], "every packet delivered");
            final long dropped = node.counterTotals()[EngineCounter.DROPPED_BUCKET_FAILURE.id()];
            assertTrue(dropped > 0, "the faults fired");
            assertEquals(dropped, delivered[1], "the dropped packets, and only they, without state");
            // What a failing bucket tracked before its fault in that message (at most 5 each) is finished late.
            assertTrue(overlapped.lateCount() <= 4 * 5, "finished late: " + overlapped.lateCount());
        }
        finally
        {
            NodeTesting.close(node);
        }
    }
}
