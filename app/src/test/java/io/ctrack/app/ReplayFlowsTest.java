package io.ctrack.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.ctrack.app.ReplayCommandTest.corpus;
import static io.ctrack.app.ReplayCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code replay --flows}: final actions next to ct_state, both modes, both engines; flow syntax errors. */
@Timeout(120)
class ReplayFlowsTest
{
    @Test
    void shouldPrintTheFirewallsActionsAlikeInEveryModeAndEngine()
    {
        final Path pcap = corpus().resolve("tcp-handshake-data-fin.pcap");
        assumeTrue(Files.exists(pcap), "reference corpus not found at " + corpus() + ": skipping");
        String first = null;
        for (final String engine : List.of("sharded", "embedded"))
        {
            for (final String mode : List.of("single-pass", "recirculate"))
            {
                final ReplayCommandTest.Result r = run("replay", pcap.toString(), "--flows", "firewall", "--in-port",
                    "1,10.200.1.2=2", "--pipeline", mode, "--engine", engine);
                assertEquals(0, r.exitCode(), r.err());
                final List<String> lines = r.out().lines().toList();
                assertEquals("1: new|trk output:2", lines.get(0));
                assertEquals("2: est|rpl|trk output:1", lines.get(1));
                assertEquals("3: est|trk output:2", lines.get(2));
                if (first == null)
                {
                    first = r.out();
                }
                assertEquals(first, r.out(), engine + " " + mode);
            }
        }
    }

    @Test
    void shouldDropConnectionsStartedFromOutside(@TempDir final Path dir) throws Exception
    {
        final Path pcap = corpus().resolve("tcp-handshake-data-fin.pcap");
        assumeTrue(Files.exists(pcap), "reference corpus not found at " + corpus() + ": skipping");
        // Everything arrives on port 2: new connections from outside are dropped, and never committed.
        final ReplayCommandTest.Result r = run("replay", pcap.toString(), "--flows", "firewall", "--in-port", "2");
        assertEquals(0, r.exitCode(), r.err());
        final List<String> lines = r.out().lines().toList();
        assertEquals("1: new|trk drop", lines.get(0));
        assertTrue(lines.stream().noneMatch(l -> l.endsWith("output:1") || l.endsWith("output:2")), r.out());
    }

    @Test
    void shouldNameTheLineAndColumnOfBadFlows(@TempDir final Path dir) throws Exception
    {
        final Path flows = dir.resolve("bad.flows");
        Files.writeString(flows, "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)\n"
            + "# comment\n"
            + "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2\n"
            + "table=1, ct_state=+nwe+trk,ip actions=drop\n");
        final Path pcap = dir.resolve("empty.pcap");
        Files.write(pcap, new byte[] { (byte)0xD4, (byte)0xC3, (byte)0xB2, (byte)0xA1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            (byte)0xFF, (byte)0xFF, 0, 0, 1, 0, 0, 0 });
        final ReplayCommandTest.Result r = run("replay", pcap.toString(), "--flows", flows.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("line 4, column 20: ct_state: unknown flag 'nwe'"), r.err());

        Files.writeString(flows, "table=1, nw_src=10.0.0.1 actions=drop\n");
        final ReplayCommandTest.Result r2 = run("replay", pcap.toString(), "--flows", flows.toString());
        assertEquals(2, r2.exitCode());
        assertTrue(r2.err().contains("line 1, column 10: nw_src: prerequisites not met (needs ip or arp)"), r2.err());

        Files.writeString(flows, "ip actions=ct(table=1),output:x\n");
        final ReplayCommandTest.Result r3 = run("replay", pcap.toString(), "--flows", flows.toString());
        assertEquals(2, r3.exitCode());
        assertTrue(r3.err().contains("line 1, column 24: unknown action 'output:x'")
            || r3.err().contains("line 1, column 31"), r3.err());
    }
}
