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
    @Test
    void shouldPrintWhatOvsVswitchdPrintedForTheSameTraffic() throws Exception
    {
        final Path dir = Path.of(System.getProperty("ctrack.differential.dir", "../testdata/differential"));
        final Path pcap = dir.resolve("mixed.pcap");
        int packets = 0;
        try (PcapReader reader = PcapReader.open(pcap))
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
