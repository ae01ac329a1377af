package io.ctrack.shards;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.flow.CtService;
import io.ctrack.engine.flow.FlowParser;
import io.ctrack.engine.flow.FlowTables;
import io.ctrack.engine.flow.PipelineRunner;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.RandomPipelines;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.transport.WorkerCtService;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single-pass against recirculation where a run's packets do not all fit the simple case: a run spread over several
 * buckets of which one leaves a packet's ct to the packet thread, and a run too large for one message to its bucket.
 */
@ExtendWith(LogCapturingExtension.class)
class SinglePassOrderTest
{
    @Test
    @Timeout(60)
    void packetsCommittedInTheirBucketAreNotTrackedAgainAfterAnotherBucketResumed()
    {
        final String tables = String.join("\n",
            "table=0, priority=100,ip actions=ct(table=1)",
            "table=1, priority=20,ct_state=+new+trk,ip,nw_src=10.0.0.1 actions=ct(zone=2,commit),output:5",
            "table=1, priority=10,ct_state=+new+trk,ip actions=ct(commit),output:2",
            "table=1, priority=10,ct_state=+est+trk,ip actions=output:3");
        final ShardedNode recNode = ShardedNode.start(NodeTesting.settings("order-rec", 4));
        final ShardedNode spNode = ShardedNode.start(NodeTesting.settings("order-sp", 4));
        try
        {
            final int n = 17;
            final byte[][] frames = new byte[n][];
            for (int i = 0; i < n; i++)
            {
                // Packet 0 goes on in zone 2 (its bucket leaves that to the packet thread); the others commit in zone 0.
                frames[i] = TestPackets.ipv4(i == 0 ? "10.0.0.1" : "10.0.3." + i, "10.0.9.9").udp(1000 + i, 53)
                    .payload(4).build();
            }
            final CountingService counted = new CountingService(new WorkerCtService(spNode.newWorker(2)));
            final PipelineRunner sp = new PipelineRunner(counted, PipelineRunner.Mode.SINGLE_PASS, 32);
            final PipelineRunner rec = new PipelineRunner(new WorkerCtService(recNode.newWorker(2)),
                PipelineRunner.Mode.RECIRCULATE, 32);
            compare(tables, rec, recNode, sp, spNode, frames, ports(n, -1));
            assertEquals(n, sp.evaluatedWhereTracked());
            final long doneInBucket = sp.committedWhereTracked();
            assertTrue(doneInBucket > 0 && doneInBucket < n, "some commits in the buckets, some left: " + doneInBucket);
            assertEquals(n - doneInBucket, counted.packets, "only the packets whose ct the buckets left are tracked again");
        }
        finally
        {
            NodeTesting.close(recNode);
            NodeTesting.close(spNode);
        }
    }

    @Test
    @Timeout(60)
    void aRunLargerThanOneMessageToItsBucketKeepsRecirculationOrder()
    {
        final ShardedNode recNode = ShardedNode.start(NodeTesting.smallFrames("split-rec", 1));
        final ShardedNode spNode = ShardedNode.start(NodeTesting.smallFrames("split-sp", 1));
        try
        {
            // One run of 300 packets to the only bucket (more than one message holds): a request first, its reply
            // last. Recirculation tracks all 300 before committing any, so the reply is +new from port 2: dropped.
            final int n = 300;
            final byte[][] frames = new byte[n][];
            frames[0] = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(4).build();
            for (int i = 1; i < n - 1; i++)
            {
                frames[i] = TestPackets.ipv4("10.0.4." + (i & 0xFF), "10.0.5." + (i >> 8)).udp(2000 + i, 53).payload(4).build();
            }
            frames[n - 1] = TestPackets.ipv4("10.0.0.2", "10.0.0.1").udp(53, 1000).payload(4).build();
            final PipelineRunner rec = new PipelineRunner(new WorkerCtService(recNode.newWorker(2)),
                PipelineRunner.Mode.RECIRCULATE, n);
            final PipelineRunner sp = new PipelineRunner(new WorkerCtService(spNode.newWorker(2)),
                PipelineRunner.Mode.SINGLE_PASS, n);
            compare(RandomPipelines.FIREWALL, rec, recNode, sp, spNode, frames, ports(n, n - 1));
            assertEquals("drop", sp.describe(n - 1));
            assertEquals(n, spNode.counterTotals()[EngineCounter.PIPELINE_SHARES_TOO_LARGE.id()],
                "the share went as a plain ct");
        }
        finally
        {
            NodeTesting.close(recNode);
            NodeTesting.close(spNode);
        }
    }

    /** Port 1 for every packet but {@code fromTwo} (port 2). */
    private static int[] ports(final int n, final int fromTwo)
    {
        final int[] ports = new int[n];
        java.util.Arrays.fill(ports, 1);
        if (fromTwo >= 0)
        {
            ports[fromTwo] = 2;
        }
        return ports;
    }

    private static void compare(final String text, final PipelineRunner rec, final ShardedNode recNode,
        final PipelineRunner sp, final ShardedNode spNode, final byte[][] frames, final int[] inPorts)
    {
        final FlowTables tables = new FlowParser(RandomPipelines.NAT).parse(text, 1);
        recNode.flowTables(tables);
        spNode.flowTables(tables);
        final FrameBatch a = new FrameBatch(frames.length);
        final FrameBatch b = new FrameBatch(frames.length);
        for (final byte[] frame : frames)
        {
            a.add(new UnsafeBuffer(frame.clone()), 0, frame.length);
            b.add(new UnsafeBuffer(frame.clone()), 0, frame.length);
        }
        rec.run(tables, a, inPorts, 1_000);
        sp.run(tables, b, inPorts, 1_000);
        for (int i = 0; i < frames.length; i++)
        {
            assertEquals(rec.describe(i), sp.describe(i), "actions of packet " + i);
            assertEquals(CtState.format(rec.ctState(i)), CtState.format(sp.ctState(i)), "ct_state of packet " + i);
        }
    }

    /** Counts the packets sent through plain {@code ct} trips (the packet thread's own). */
    private static final class CountingService implements CtService
    {
        private final CtService inner;
        long packets;

        CountingService(final CtService inner)
        {
            this.inner = inner;
        }

        @Override
        public void ct(final FrameBatch frames, final ExecParams params, final int[] inStates, final long nowMs,
            final MutableDirectBuffer verdicts)
        {
            packets += frames.count();
            inner.ct(frames, params, inStates, nowMs, verdicts);
        }

        @Override
        public void ctSinglePass(final FrameBatch frames, final ExecParams params, final int postCtTable,
            final int generation, final DirectBuffer fields, final long nowMs, final MutableDirectBuffer verdicts)
        {
            inner.ctSinglePass(frames, params, postCtTable, generation, fields, nowMs, verdicts);
        }
    }
}
