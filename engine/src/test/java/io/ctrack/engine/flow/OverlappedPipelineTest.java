package io.ctrack.engine.flow;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.testing.RandomPipelines;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Single-pass with overlapping batches against recirculation, one batch at a time: random overlappable pipelines,
 * random packets, rules changed mid-stream; every packet gets the same actions and ct_state, in submission order.
 */
class OverlappedPipelineTest
{
    @RepeatedTest(60)
    void shouldAgreeWithRecirculation(final RepetitionInfo info)
    {
        final long seed = 7000L + info.getCurrentRepetition();
        final Random r = new Random(seed);
        final FlowParser parser = new FlowParser(RandomPipelines.NAT);
        FlowTables tables = parser.parse(RandomPipelines.randomOverlappable(r), 1);
        final PipelineRunner rec = new PipelineRunner(new ConntrackCtService(new Conntrack()).tables(tables),
            PipelineRunner.Mode.RECIRCULATE, 64);
        final ConntrackCtService service = new ConntrackCtService(new Conntrack()).tables(tables);
        final List<String> expected = new ArrayList<>();
        final List<String> actual = new ArrayList<>();
        final OverlappedPipeline overlapped = new OverlappedPipeline(service, 64, 1 + r.nextInt(4))
            .listener((number, results) ->
            {
                for (int i = 0; i < results.count(); i++)
                {
                    actual.add(number + "/" + i + " " + results.describe(i) + " " + CtState.format(results.ctState(i)));
                }
            });
        long now = 1_000;
        for (int batch = 0; batch < 40; batch++)
        {
            if (batch % 15 == 14)
            {
                tables = parser.parse(RandomPipelines.randomOverlappable(r), tables.generation() + 1);
                overlapped.drain();
                service.tables(tables);
            }
            assertNull(OverlappedPipeline.ineligibility(tables), tables.source());
            final int n = 1 + r.nextInt(64);
            final byte[][] frames = new byte[n][];
            final int[] inPorts = new int[n];
            for (int i = 0; i < n; i++)
            {
                frames[i] = RandomPipelines.packet(r);
                inPorts[i] = 1 + r.nextInt(2);
            }
            rec.run(tables, PipelineEquivalenceTest.batchOf(frames), inPorts, now);
            for (int i = 0; i < n; i++)
            {
                expected.add(batch + "/" + i + " " + rec.describe(i) + " " + CtState.format(rec.ctState(i)));
            }
            overlapped.submit(tables, PipelineEquivalenceTest.batchOf(frames), inPorts, now);
            now += r.nextInt(4) == 0 ? 20_000 : 10;
        }
        overlapped.drain();
        assertEquals(String.join("\n", expected), String.join("\n", actual), "seed " + seed + "\n" + tables.source());
        assertEquals(0, overlapped.lateCount());
        assertTrue(overlapped.evaluatedWhereTracked() > 0);
    }

    @Test
    void shouldTellWhyTablesCannotOverlap()
    {
        final FlowParser parser = new FlowParser(RandomPipelines.NAT);
        assertNull(OverlappedPipeline.ineligibility(parser.parse(RandomPipelines.FIREWALL, 1)));
        assertNotNull(OverlappedPipeline.ineligibility(parser.parse(String.join("\n",
            "table=0, priority=1 actions=ct(table=1)",
            "table=1, priority=1 actions=ct(zone=2,commit),output:2"), 1)), "a commit in another zone");
        assertNotNull(OverlappedPipeline.ineligibility(parser.parse(String.join("\n",
            "table=0, priority=1 actions=ct(table=1)",
            "table=1, priority=1 actions=ct(commit,nat(src=10.9.9.9)),output:2"), 1)), "a translation");
        assertNotNull(OverlappedPipeline.ineligibility(parser.parse(String.join("\n",
            "table=0, priority=1 actions=ct(table=1)",
            "table=1, priority=1 actions=ct(table=2)",
            "table=2, priority=1 actions=output:1"), 1)), "a second recirculation");
        final OverlappedPipeline overlapped = new OverlappedPipeline(new ConntrackCtService(new Conntrack()), 8, 2);
        final FlowTables nat = parser.parse("table=0, priority=1 actions=ct(nat,table=1)", 1);
        assertThrows(IllegalArgumentException.class,
            () -> overlapped.submit(nat, new io.ctrack.engine.FrameBatch(1), new int[1], 0));
    }
}
