package io.ctrack.app;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.pcap.PcapReader;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A capture's packets tracked through a node, then {@code dump-conntrack} and {@code ct-stats-show} (plain and
 * verbose) against what {@code ovs-vswitchd} printed after the same packets went through its {@code ct(commit)}
 * ({@code testdata/differential/expected/mixed.pcap.*.txt}, see its README).
 */
class DpctlOvsComparisonTest extends DpctlFixture
{
    private final Path dir = ReplayEnginesTest.differential();

    @Test
    void shouldPrintWhatOvsVswitchdPrintedForTheSameTraffic() throws Exception
    {
        trackCapture();

        final List<String> dump = sorted(ok("dump-conntrack"));
        assertEquals(expected(dir, "dump"), dump);
        // Open vSwitch counts ICMPv6 connections in Total but has no line for them (its ct-stats-show prints every
        // protocol it counts but that one); ctrack prints it, after ICMP. Otherwise the same.
        final String icmpv6 = "  ICMPV6: " + dump.stream().filter(l -> l.startsWith("icmpv6,")).count();
        assertEquals(withLineAfter(expected(dir, "stats"), "  ICMP: ", icmpv6), ok("ct-stats-show"));
        final List<String> verbose = withLineAfter(expected(dir, "stats-verbose"), "  ICMP: ", icmpv6);
        assertEquals(verbose, ok("ct-stats-show", "verbose"));
        assertEquals(verbose, ok("ct-stats-show", "zone=0", "verbose"));
    }

    /**
     * With a limit of 5 connections in the zone, the first 5 connections are admitted, as in Open vSwitch, and no
     * other but one: the first of them, a TCP connection closed with FINs, is reopened by a new SYN on its tuple
     * (packet 572), which ends the old connection. Here the old one is gone at once, so the new one fits in the
     * limit and is admitted (in SYN_SENT). Open vSwitch only marks a replaced connection expired and counts it until
     * its sweeper reclaims it, so at that moment the zone is still full and the new connection is refused: its
     * table lacks that one line, and its count says 5 (4 once the sweeper has run). Otherwise the same table.
     */
    @Test
    void shouldAdmitWhatOvsVswitchdAdmitsUnderAZoneLimitButAReopenedConnection() throws Exception
    {
        assertEquals(List.of(), ok("ct-set-limits", "zone=0,limit=5"));
        trackCapture();

        final List<String> expected = new java.util.ArrayList<>(expected(dir, "limit5.dump"));
        expected.add("tcp,orig=(src=10.0.0.35,dst=10.1.0.3,sport=43482,dport=443),reply=(src=10.1.0.3,dst=10.0.0.35,"
            + "sport=443,dport=43482),protoinfo=(state=SYN_SENT)");
        assertEquals(sorted(expected), sorted(ok("dump-conntrack")));
        assertEquals(List.of("default limit=0", "zone=0,limit=5,count=5"), ok("ct-get-limits", "zone=0"));
    }

    /** Every frame of {@code mixed.pcap} tracked with commit in zone 0, one at a time. */
    private void trackCapture() throws Exception
    {
        int packets = 0;
        try (PcapReader reader = PcapReader.open(dir.resolve("mixed.pcap")))
        {
            reader.validate();
            while (reader.next())
            {
                final byte[] frame = new byte[reader.frameLength()];
                reader.buffer().getBytes(reader.frameOffset(), frame);
                track(ExecParams.commit(0), frame);
                packets++;
            }
        }
        assertEquals(1051, packets);
    }

    private static List<String> withLineAfter(final List<String> lines, final String prefix, final String line)
    {
        final List<String> copy = new java.util.ArrayList<>(lines);
        for (int i = 0; i < copy.size(); i++)
        {
            if (copy.get(i).startsWith(prefix))
            {
                copy.add(i + 1, line);
                return copy;
            }
        }
        throw new AssertionError("no line starting '" + prefix + "' in " + lines);
    }

    private static List<String> expected(final Path dir, final String what) throws Exception
    {
        final List<String> lines = Files.readAllLines(dir.resolve("expected").resolve("mixed.pcap." + what + ".txt"),
            StandardCharsets.US_ASCII);
        assertTrue(lines.size() > 3, what);
        return lines;
    }
}
