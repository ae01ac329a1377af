package io.ctrack.shards;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.flow.FlowParser;
import io.ctrack.engine.flow.FlowTables;
import io.ctrack.engine.flow.PipelineRunner;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.RandomPipelines;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.WorkerCtService;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pipeline through the sharded runtime: single-pass (the bucket evaluates the post-ct table and commits in the
 * same visit) against recirculation (the worker does every step), on two nodes fed the same packets, with random
 * tables changed mid-stream: every packet gets the same actions, ct_state and rewrite.
 */
@ExtendWith(LogCapturingExtension.class)
class ShardedPipelineTest
{
    @ParameterizedTest
    @ValueSource(longs = { 4242, 7, 99, 10, 17 })
    @Timeout(120)
    void shouldGiveTheSameActionsAndStatesInBothModes(final long seed)
    {
        final ShardedNode recNode = ShardedNode.start(NodeTesting.smallFrames("pipe-rec", 4));
        final ShardedNode spNode = ShardedNode.start(NodeTesting.smallFrames("pipe-sp", 4));
        try
        {
            final PipelineRunner rec = new PipelineRunner(new WorkerCtService(recNode.newWorker(2)),
                PipelineRunner.Mode.RECIRCULATE, 512);
            final PipelineRunner sp = new PipelineRunner(new WorkerCtService(spNode.newWorker(2)),
                PipelineRunner.Mode.SINGLE_PASS, 512);
            final FlowParser parser = new FlowParser(RandomPipelines.NAT);
            final Random r = new Random(seed);
            FlowTables tables = parser.parse(RandomPipelines.FIREWALL, 1);
            long now = 1_000;
            int compared = 0;
            for (int round = 0; round < 120; round++)
            {
                if (round % 20 == 19)
                {
                    tables = parser.parse(RandomPipelines.randomTables(r), tables.generation() + 1);
                }
                recNode.flowTables(tables);
                spNode.flowTables(tables);
                // Now and then a large batch of IP packets only (long runs), whose share for a bucket may exceed
                // one message (such a share goes as a plain ct).
                final boolean large = round % 10 == 5;
                final int n = large ? 300 + r.nextInt(200) : 1 + r.nextInt(16);
                final byte[][] a = new byte[n][];
                final byte[][] b = new byte[n][];
                final byte[][] original = new byte[n][];
                final int[] inPorts = new int[n];
                for (int i = 0; i < n; i++)
                {
                    do
                    {
                        a[i] = RandomPipelines.packet(r);
                    }
                    while (large && (a[i][12] & 0xFF) == 0x08 && a[i][13] == 0x06);
                    b[i] = a[i].clone();
                    original[i] = a[i].clone();
                    inPorts[i] = 1 + r.nextInt(2);
                }
                rec.run(tables, Traffic.batchOf(java.util.List.of(a)), inPorts, now);
                sp.run(tables, Traffic.batchOf(java.util.List.of(b)), inPorts, now);
                for (int i = 0; i < n; i++)
                {
                    final String where = "round " + round + ", packet " + i + "\n" + tables.source();
                    assertEquals(rec.describe(i), sp.describe(i), where);
                    assertEquals(CtState.format(rec.ctState(i)), CtState.format(sp.ctState(i)), where);
                    if (large)
                    {
                        // Many connections translated to one address in one trip: buckets reserve reply tuples
                        // concurrently, so which free port a connection gets may differ from node to node (two
                        // nodes in the same mode differ too; Open vSwitch's choice also varies, by a random hash
                        // basis). Both rewrite the same packets.
                        assertEquals(java.util.Arrays.equals(original[i], a[i]), java.util.Arrays.equals(original[i], b[i]),
                            "rewritten in both modes or in neither, " + where);
                    }
                    else
                    {
                        assertTrue(java.util.Arrays.equals(a[i], b[i]), "rewritten alike, " + where);
                    }
                    compared++;
                }
                if (large)
                {
                    // Connections translated to different ports would keep differing: start the next round afresh.
                    NodeTesting.ok(recNode.ask(AdminActor.FlushAll::new));
                    NodeTesting.ok(spNode.ask(AdminActor.FlushAll::new));
                }
                now += r.nextInt(4) == 0 ? 15_000 : 5;
            }
            assertTrue(compared > 500);
            assertTrue(sp.evaluatedWhereTracked() > compared / 4, "the buckets evaluated post-ct tables: " + sp.evaluatedWhereTracked());
            assertTrue(sp.committedWhereTracked() > 0, "and committed in the same visit");
            final long[] totals = spNode.counterTotals();
            assertEquals(0, totals[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()]);
            assertTrue(totals[EngineCounter.PIPELINE_SHARES_TOO_LARGE.id()] > 0, "some shares went as a plain ct");
        }
        finally
        {
            NodeTesting.close(recNode);
            NodeTesting.close(spNode);
        }
    }
}
