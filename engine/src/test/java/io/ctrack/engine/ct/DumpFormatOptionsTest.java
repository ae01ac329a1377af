package io.ctrack.engine.ct;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.frag.FragConfig;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.testing.Corpus;
import io.ctrack.engine.testing.TestPackets;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dump-conntrack -m} and {@code -s}: the verbose lines of whole tables against what Open vSwitch's
 * {@code ovs-vswitchd} printed for the same captures ({@code testdata/differential/expected/FILE.dump-m.txt}, see
 * its README), and the timeout left.
 */
class DumpFormatOptionsTest
{
    @ParameterizedTest
    @ValueSource(strings = { "long-tcp.pcap", "mixed.pcap", "ipv6.pcap" })
    void shouldPrintTheVerboseTableOpenVswitchPrints(final String name) throws Exception
    {
        final Path pcap = Corpus.differentialDir().resolve(name);
        final List<String> expected = Corpus.readLines(pcap.resolveSibling("expected").resolve(name + ".dump-m.txt"));
        final Conntrack conntrack = new Conntrack(ConnTableConfig.of(0, 4096), FragConfig.DEFAULT);
        Corpus.replay(conntrack, pcap, 1);

        final List<String> actual = new ArrayList<>();
        conntrack.table().forEach(-1, System.currentTimeMillis(), e ->
        {
            final String line = DumpFormat.format(e, DumpFormat.MORE, 0);
            // Open vSwitch's userspace datapath prints id=0; ours is the connection id, never 0.
            assertTrue(line.matches(".*\\),id=[1-9][0-9]*,.*"), line);
            actual.add(line.replaceFirst("\\),id=[0-9]+,", "),id=0,"));
        });
        actual.sort(null);
        assertEquals(expected, actual);
    }

    @Test
    void shouldPrintTheSecondsLeftAfterTheZoneAndStatusBeforeTheMark()
    {
        final Conntrack conntrack = new Conntrack(ConnTableConfig.of(0, 64), FragConfig.DEFAULT);
        final byte[] frame = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).build();
        final FrameBatch batch = new FrameBatch(1);
        batch.add(new UnsafeBuffer(frame), 0, frame.length);
        final long createdMs = 1_000_000;
        conntrack.execute(batch, ExecParams.commit(7).mark(5, -1), createdMs,
            new UnsafeBuffer(new byte[Verdict.LENGTH]), 0);

        final List<String> lines = new ArrayList<>();
        // UDP's first timeout is 60 s; 12.345 s later 47.655 s are left, printed as whole seconds.
        conntrack.table().forEach(-1, createdMs + 12_345, e ->
            lines.add(DumpFormat.format(e, DumpFormat.MORE | DumpFormat.STATISTICS, createdMs + 12_345)));
        assertEquals(1, lines.size());
        assertTrue(lines.get(0).matches("udp,orig=\\(src=10\\.0\\.0\\.1,dst=10\\.0\\.0\\.2,sport=1000,dport=53\\),"
            + "reply=\\(src=10\\.0\\.0\\.2,dst=10\\.0\\.0\\.1,sport=53,dport=1000\\),id=[1-9][0-9]*,zone=7,status=0,"
            + "timeout=47,mark=5"), lines.get(0));

        lines.clear();
        conntrack.table().forEach(-1, createdMs + 12_345, e ->
            lines.add(DumpFormat.format(e, DumpFormat.STATISTICS, createdMs + 59_999)));
        assertEquals("udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1000),zone=7,timeout=0,mark=5", lines.get(0));
    }
}
