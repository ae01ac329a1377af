package io.ctrack.app;

import io.ctrack.app.dpctl.AdminServer;
import io.ctrack.app.dpctl.Dpctl;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ctrack dpctl} end to end, the other commands: connection and zone limits, TCP sequence checking, the sweep
 * interval, timeout policies, counters, bucket failure drills, and the errors (one line, exit code 2) for bad
 * syntax, unknown commands and no node listening; the admin channel refuses anything but loopback.
 */
@Timeout(60)
class DpctlCommandTest extends DpctlFixture
{
    @Test
    void shouldCountAndLimitConnections()
    {
        trafficMix();

        assertEquals(List.of("6"), ok("ct-get-nconns"));
        assertEquals(List.of("3000000"), ok("ct-get-maxconns"));
        assertEquals(List.of("setting maxconns successful"), ok("ct-set-maxconns", "7"));
        assertEquals(List.of("7"), ok("ct-get-maxconns"));

        final List<Verdict> admitted = track(ExecParams.commit(0), udp(20, 5000, 21, 53));
        assertTrue(admitted.get(0).connId() != 0);
        final List<Verdict> refused = track(ExecParams.commit(0), udp(22, 5000, 23, 53));
        assertEquals(CtState.NEW | CtState.TRACKED, refused.get(0).ctState());
        assertEquals(0, refused.get(0).connId(), "the eighth connection is over the limit");
        assertEquals(1, node.counterTotals()[EngineCounter.COMMIT_REFUSED_TABLE_FULL.id()]);
        assertEquals(List.of("7"), ok("ct-get-nconns"));

        fails("maxconns missing or malformed", "ct-set-maxconns", "lots");
        fails("maxconns missing or malformed", "ct-set-maxconns", "4294967296");
        fails("maxconns missing or malformed", "ct-set-maxconns");
    }

    @Test
    void shouldSetGetAndDeleteZoneLimits()
    {
        trafficMix();

        assertEquals(List.of("default limit=0"), ok("ct-get-limits"));
        assertEquals(List.of(), ok("ct-set-limits", "default=10", "zone=5,limit=2", "zone=9,limit=0"));
        assertEquals(List.of("default limit=10", "zone=5,limit=2,count=1", "zone=9,limit=0,count=0"),
            ok("ct-get-limits"));
        // A zone without a limit of its own shows the default.
        assertEquals(List.of("default limit=10", "zone=5,limit=2,count=1", "zone=7,limit=10,count=1"),
            ok("ct-get-limits", "zone=5,7"));

        track(ExecParams.commit(5), udp(30, 6000, 31, 53));
        final List<Verdict> refused = track(ExecParams.commit(5), udp(32, 6000, 33, 53));
        assertEquals(0, refused.get(0).connId(), "zone 5 is at its limit");
        assertEquals(1, node.counterTotals()[EngineCounter.COMMIT_REFUSED_ZONE_LIMIT.id()]);
        assertEquals(List.of("default limit=10", "zone=5,limit=2,count=2"), ok("ct-get-limits", "zone=5"));

        assertEquals(List.of(), ok("ct-del-limits", "zone=5,9"));
        assertEquals(List.of("default limit=10"), ok("ct-get-limits"));
        assertEquals(List.of(), ok("ct-del-limits", "default"));
        assertEquals(List.of("default limit=0"), ok("ct-get-limits"));

        fails("too few arguments", "ct-set-limits");
        fails("need zone=N,limit=M", "ct-set-limits", "zone=5");
        fails("field limit missing value", "ct-set-limits", "zone=5,limit=");
        fails("invalid zone limit field: bogus", "ct-set-limits", "zone=5,bogus=1");
        fails("failed to parse field zone", "ct-set-limits", "zone=x,limit=5");
        fails("failed to parse field limit", "ct-set-limits", "zone=5,limit=abc");
        fails("invalid zone", "ct-get-limits", "zone=70000");
        fails("too few arguments", "ct-del-limits");
    }

    @Test
    void shouldSwitchTcpSequenceChecking()
    {
        track(ExecParams.commit(0), tcp(5, 40000, 6, 80, 100, 0, TCP_SYN), tcp(6, 80, 5, 40000, 900, 101, TCP_SYN | TCP_ACK),
            tcp(5, 40000, 6, 80, 101, 901, TCP_ACK));
        // Data far beyond what the server's window allows (a segment without data would pass: pf eases those).
        final byte[] farOutOfWindow = tcp(5, 40000, 6, 80, 101 + 50_000_000, 901, TCP_ACK, 100);

        assertEquals(List.of("TCP sequence checking: enabled"), ok("ct-get-tcp-seq-chk"));
        assertEquals(CtState.INVALID | CtState.TRACKED, track(ExecParams.commit(0), farOutOfWindow).get(0).ctState());

        assertEquals(List.of("disabling TCP sequence checking successful"), ok("ct-disable-tcp-seq-chk"));
        assertEquals(List.of("TCP sequence checking: disabled"), ok("ct-get-tcp-seq-chk"));
        assertEquals(CtState.ESTABLISHED | CtState.TRACKED,
            track(ExecParams.commit(0), farOutOfWindow).get(0).ctState());

        assertEquals(List.of("enabling TCP sequence checking successful"), ok("ct-enable-tcp-seq-chk"));
        assertEquals(List.of("TCP sequence checking: enabled"), ok("ct-get-tcp-seq-chk"));
    }

    @Test
    void shouldSetAndGetTheSweepInterval()
    {
        assertEquals(List.of("5"), ok("ct-get-sweep-interval"));
        assertEquals(List.of("setting sweep interval successful"), ok("ct-set-sweep-interval", "200"));
        assertEquals(List.of("200"), ok("ct-get-sweep-interval"));
        assertEquals(200, sweepers.intervalMs());

        fails("invalid sweep value", "ct-set-sweep-interval", "0");
        fails("invalid sweep value", "ct-set-sweep-interval", "-5");
        fails("invalid sweep value", "ct-set-sweep-interval", "soon");
        fails("invalid sweep value", "ct-set-sweep-interval");
        assertEquals(List.of("200"), ok("ct-get-sweep-interval"));
    }

    @Test
    void shouldApplyATimeoutPolicyToAZone()
    {
        assertEquals(List.of(), ok("ct-set-timeout-policy", "7", "udp_first=5,udp_single=5", "udp_multiple=6"));
        assertEquals(List.of(), ok("ct-set-zone-policy", "zone=9,policy=7"));
        final long start = clock.get();
        track(ExecParams.commit(9), udp(1, 1000, 2, 53));
        track(ExecParams.commit(0), udp(3, 1000, 4, 53));
        assertEquals(List.of("2"), ok("ct-get-nconns"));

        // Past the policy's 5 s (and the wheel slot), well short of the default 60 s.
        clock.set(start + 5_500);
        await(() -> node.limits().zoneCount(9) == 0, "zone 9's connection swept");
        assertEquals(List.of("1"), ok("ct-get-nconns"));
        assertEquals(1, node.limits().zoneCount(0));

        assertEquals(List.of(), ok("ct-del-timeout-policy", "7"));
        track(ExecParams.commit(9), udp(5, 1000, 6, 53));
        sweepAt(start + 12_000);
        assertEquals(List.of("2"), ok("ct-get-nconns"), "a deleted policy falls back to the defaults");

        fails("unknown timeout 'udp_forever'", "ct-set-timeout-policy", "7", "udp_forever=5");
        fails("expected ATTR=SECONDS", "ct-set-timeout-policy", "7", "udp_first");
        fails("invalid timeout policy id", "ct-set-timeout-policy", "65536");
        fails("usage: ct-set-zone-policy", "ct-set-zone-policy", "zone=9");
        fails("invalid zone", "ct-set-zone-policy", "zone=65536,policy=7");
    }

    @Test
    void shouldPrintCountersInTotalAndPerBucket()
    {
        trafficMix();

        final List<String> totals = ok("ct-counters");
        assertTrue(totals.contains(String.format("%-60s %d", EngineCounter.PACKETS.label(), 13)), totals.toString());
        assertTrue(totals.contains(String.format("%-60s %d", EngineCounter.CONN_CREATED.label(), 6)), totals.toString());
        for (final String line : totals)
        {
            assertTrue(line.matches(".+ \\d+"), line);
            assertFalse(line.matches(".* 0"), "zero counters are left out: " + line);
        }

        final List<String> perBucket = ok("ct-counters", "per-bucket");
        // Totals first (sweep counters move between the two commands; packet counters do not).
        assertEquals(totals.get(0), perBucket.get(0));
        assertTrue(perBucket.indexOf("bucket 0:") > perBucket.indexOf(totals.get(0)), perBucket.toString());
        long created = 0;
        for (int b = 0; b < node.buckets(); b++)
        {
            assertTrue(perBucket.contains("bucket " + b + ":"), perBucket.toString());
            created += node.bucketCounter(b, EngineCounter.CONN_CREATED);
        }
        assertEquals(6, created);
        assertEquals(node.buckets(), perBucket.stream().filter(l -> l.matches("  restarts after failures +0")).count());
        fails("usage: ct-counters", "ct-counters", "by-zone");
    }

    @Test
    void shouldRestartAFailedBucketWithItsConnections()
    {
        trafficMix();

        assertEquals(List.of("fault injected into bucket 1"), ok("ct-fail-bucket", "1"));
        await(() -> node.bucketRestarts(1) == 1, "bucket 1 restarted");

        assertEquals(sorted(MIX_DUMP), sorted(ok("dump-conntrack")));
        final List<String> perBucket = ok("ct-counters", "per-bucket");
        assertEquals(1, perBucket.stream().filter(l -> l.matches("  restarts after failures +1")).count(),
            perBucket.toString());
        fails("no bucket 4", "ct-fail-bucket", "4");
        fails("invalid bucket", "ct-fail-bucket", "x");
    }

    @Test
    void shouldDumpWithMoreDetailAndTheTimeoutLeft()
    {
        trafficMix();

        // -m: the connection id after the reply tuple, status=0 after the zone, both TCP peers; as in Open vSwitch.
        final List<String> more = sorted(ok("dump-conntrack", "-m", "zone=5"));
        assertEquals(1, more.size(), more.toString());
        assertTrue(more.get(0).matches("udp,orig=\\(src=10\\.0\\.0\\.3,dst=10\\.0\\.0\\.4,sport=2000,dport=53\\),"
            + "reply=\\(src=10\\.0\\.0\\.4,dst=10\\.0\\.0\\.3,sport=53,dport=2000\\),id=[1-9][0-9]*,zone=5,status=0"),
            more.get(0));
        final String tcp = ok("--more", "dump-conntrack").stream().filter(l -> l.startsWith("tcp,")).findFirst()
            .orElseThrow();
        assertTrue(tcp.endsWith(",status=0,protoinfo=(state_orig=ESTABLISHED,state_reply=ESTABLISHED,"
            + "flags_orig=0,flags_reply=0)"), tcp);

        // -s: the whole seconds left, after the zone, before the mark; options joined (-ms) or long.
        final List<String> stats = ok("dump-conntrack", "-s", "zone=7");
        assertEquals(List.of("udp,orig=(src=10.0.0.9,dst=10.0.0.10,sport=3000,dport=53),reply=(src=10.0.0.10,"
            + "dst=10.0.0.9,sport=53,dport=3000),zone=7,timeout=" + udpSecondsLeft(stats) + ",mark=42,labels=0xabc"),
            stats);
        assertTrue(ok("dump-conntrack", "-ms", "zone=7").get(0).contains(",zone=7,status=0,timeout="));
        assertTrue(ok("dump-conntrack", "--statistics", "--more").stream().allMatch(l -> l.contains(",timeout=")));
        assertEquals(sorted(MIX_DUMP), sorted(ok("dump-conntrack")));
        // An unknown option: refused by the command line, and by the node from any other client.
        final ReplayCommandTest.Result unknown = dpctl("dump-conntrack", "-mx");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().startsWith("ctrack dpctl: Unknown option: '-x'"), unknown.err());
        assertEquals("Unrecognized option -x", call("dump-conntrack", "-mx"));
        assertEquals("Unrecognized option --frob", call("dump-conntrack", "--frob"));
    }

    /** Sends a command to the node's admin channel directly; returns its error (null if none). */
    private String call(final String... args)
    {
        try
        {
            return AdminServer.call("127.0.0.1", server.port(), List.of(args), line -> { });
        }
        catch (final IOException ex)
        {
            throw new java.io.UncheckedIOException(ex);
        }
    }

    /** The timeout a {@code -s} line printed, checked to be (a little less than) 30 s: UDP seen both ways. */
    private static long udpSecondsLeft(final List<String> lines)
    {
        final java.util.regex.Matcher m = java.util.regex.Pattern.compile(",timeout=(\\d+),").matcher(lines.get(0));
        assertTrue(m.find(), lines.toString());
        final long seconds = Long.parseLong(m.group(1));
        assertTrue(seconds >= 20 && seconds <= 30, lines.toString());
        return seconds;
    }

    @Test
    void shouldRefuseBadCommandsWithOneLine()
    {
        fails("unknown command 'frobnicate'", "frobnicate");
        fails("unknown command 'ct-flush'", "ct-flush", "zone=1");
        fails("invalid arguments", "dump-conntrack", "zone=1", "zone=2");

        // No command at all is a usage error (picocli): exit 2, the message first.
        final ReplayCommandTest.Result none = dpctl();
        assertEquals(2, none.exitCode());
        assertTrue(none.err().startsWith("ctrack dpctl: Missing required parameter"), none.err());
    }

    @Test
    void shouldKnowEveryCommandItsHelpLists()
    {
        final ReplayCommandTest.Result help = ReplayCommandTest.run("dpctl", "--help");
        assertEquals(0, help.exitCode(), help.err());
        final List<String> commands = help.out().lines().map(String::trim)
            .filter(l -> l.matches("(dump|flush|ct)-[a-z-]+( .*)?"))
            .flatMap(l -> Arrays.stream(l.split(" \\| ")).map(c -> c.split(" ")[0]))
            .toList();
        assertEquals(19, commands.size(), "commands in the help: " + commands);
        for (final String command : commands)
        {
            final ReplayCommandTest.Result result = dpctl(command, "bogus=1");
            assertFalse(result.err().contains("unknown command"), command + ": " + result.err());
            assertTrue(result.err().lines().count() <= 1, command + ": " + result.err());
        }
    }

    @Test
    void shouldSayWhenNoNodeListens() throws IOException
    {
        final int closedPort;
        try (ServerSocket socket = new ServerSocket(0))
        {
            closedPort = socket.getLocalPort();
        }
        final ReplayCommandTest.Result result =
            ReplayCommandTest.run("dpctl", "--port", Integer.toString(closedPort), "ct-get-nconns");

        assertEquals(2, result.exitCode());
        assertEquals("", result.out());
        assertEquals(List.of("ctrack dpctl: no ctrack node answers on 127.0.0.1:" + closedPort
            + " (start one with './ctrack run')"), result.err().lines().toList());
        assertThrows(ConnectException.class,
            () -> AdminServer.call("127.0.0.1", closedPort, List.of("ct-get-nconns"), line -> { }));
    }

    @Test
    void shouldListenOnLoopbackOnly()
    {
        final Dpctl dpctl = new Dpctl(node, sweepers);
        for (final String host : List.of("0.0.0.0", "10.1.2.3", "::"))
        {
            final IllegalArgumentException ex =
                assertThrows(IllegalArgumentException.class, () -> new AdminServer(host, 0, dpctl).close());
            assertTrue(ex.getMessage().contains("loopback only"), ex.getMessage());
        }
    }

    @Test
    void shouldRefuseArgumentsWithLineBreaks() throws IOException
    {
        final List<String> out = new ArrayList<>();
        assertEquals("arguments cannot contain line breaks",
            AdminServer.call("127.0.0.1", server.port(), List.of("dump-conntrack", "zone=1\nct-set-maxconns 0"),
                out::add));
        assertEquals(List.of(), out);
        assertEquals(List.of("3000000"), ok("ct-get-maxconns"));
    }
}
