package io.ctrack.engine;

import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.testing.Corpus;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Conntrack#execute} runs a plain batch in a loop of its own (the fast key extraction and the table) and
 * everything else on its general path. Both must give the same verdict, byte for byte, to every packet: each
 * differential capture (mixed families, VLAN tags, fragments, invalid frames, clock jumps) is replayed at the
 * capture's clock into two fresh engines, once plainly and once with a listener, which sends every frame down the
 * general path.
 */
class ExecuteLoopsTest
{
    @TestFactory
    Stream<DynamicTest> shouldGiveTheSameVerdictsOnTheCommonLoopAndTheGeneralPath()
    {
        return Corpus.pcaps(Corpus.differentialDir()).stream().flatMap(pcap -> Stream.of(1, 7, 32)
            .map(batch -> DynamicTest.dynamicTest(pcap.getFileName() + " batch " + batch, () -> compare(pcap, batch))));
    }

    private static void compare(final Path pcap, final int batch) throws Exception
    {
        final int[] heard = new int[1];
        final List<String> general = Corpus.replay(engine(), pcap, batch, true, (i, request, verdict, answered) ->
            heard[0]++, true);
        final List<String> plain = Corpus.replay(engine(), pcap, batch, true, null, true);
        assertTrue(heard[0] > 0, "the listener heard no tracked packet of " + pcap);
        assertEquals(general, plain, pcap + " at batch " + batch);
    }

    private static Conntrack engine()
    {
        return new Conntrack(ConnTableConfig.of(0, 4096), FragConfig.DEFAULT);
    }
}
