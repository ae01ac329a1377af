package io.ctrack.app;

import io.ctrack.app.dpctl.AdminServer;
import io.ctrack.app.dpctl.Dpctl;
import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.FrameWriter;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.shards.NodeSettings;
import io.ctrack.shards.ShardedNode;
import io.ctrack.sweeper.SweepSettings;
import io.ctrack.sweeper.Sweepers;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static io.ctrack.engine.packet.FrameWriter.ipv4Address;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the dpctl tests share: a node in this process with its sweepers (on a clock the test moves) and its admin
 * channel on a free loopback port, a packet worker with frames written by {@link FrameWriter}, a traffic mix whose
 * table is known, and dpctl run through the command line as a user runs it.
 */
@Timeout(60)
abstract class DpctlFixture
{
    private static final AtomicInteger NEXT_NODE = new AtomicInteger();
    static final int TCP_SYN = 0x02;
    static final int TCP_ACK = 0x10;

    /** What {@link #trafficMix} leaves in the table, as {@code dump-conntrack} prints it. */
    static final List<String> MIX_DUMP = List.of(
        "udp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=1000,dport=53),reply=(src=10.0.0.2,dst=10.0.0.1,sport=53,dport=1000)",
        "udp,orig=(src=10.0.0.3,dst=10.0.0.4,sport=2000,dport=53),reply=(src=10.0.0.4,dst=10.0.0.3,sport=53,dport=2000),zone=5",
        "tcp,orig=(src=10.0.0.5,dst=10.0.0.6,sport=40000,dport=80),reply=(src=10.0.0.6,dst=10.0.0.5,sport=80,dport=40000),protoinfo=(state=ESTABLISHED)",
        "icmp,orig=(src=10.0.0.7,dst=10.0.0.8,id=77,type=8,code=0),reply=(src=10.0.0.8,dst=10.0.0.7,id=77,type=0,code=0)",
        "udp,orig=(src=10.0.0.9,dst=10.0.0.10,sport=3000,dport=53),reply=(src=10.0.0.10,dst=10.0.0.9,sport=53,dport=3000),zone=7,mark=42,labels=0xabc",
        "udp,orig=(src=fd00::1,dst=fd00::2,sport=4000,dport=53),reply=(src=fd00::2,dst=fd00::1,sport=53,dport=4000)");

    ShardedNode node;
    Sweepers sweepers;
    AdminServer server;
    PacketWorker worker;
    final AtomicLong clock = new AtomicLong(System.currentTimeMillis());

    @BeforeEach
    void startNode() throws IOException
    {
        node = ShardedNode.start(NodeSettings.defaults("dpctl-" + NEXT_NODE.incrementAndGet(), 4));
        sweepers = Sweepers.start(node, new SweepSettings(5, 0, 1_000), clock::get);
        server = new AdminServer("127.0.0.1", 0, new Dpctl(node, sweepers));
        worker = node.newWorker(4);
    }

    @AfterEach
    void closeNode() throws IOException
    {
        try
        {
            if (server != null)
            {
                server.close();
            }
        }
        finally
        {
            if (node != null)
            {
                final Path dir = node.settings().transport().aeronDir();
                node.close();
                assertFalse(Files.exists(dir), "Aeron directory left behind: " + dir);
            }
        }
    }

    // ---- traffic ------------------------------------------------------------------------------------------------

    interface Writer
    {
        int write(UnsafeBuffer buffer, int at);
    }

    static byte[] frame(final Writer writer)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        return Arrays.copyOf(buffer.byteArray(), writer.write(buffer, 0));
    }

    static int ip(final int last)
    {
        return ipv4Address(10, 0, 0, last);
    }

    static byte[] udp(final int src, final int sport, final int dst, final int dport)
    {
        return frame((b, at) -> FrameWriter.udp4(b, at, ip(src), sport, ip(dst), dport, 16, true));
    }

    static byte[] tcp(final int src, final int sport, final int dst, final int dport, final int seq,
        final int ack, final int flags)
    {
        return tcp(src, sport, dst, dport, seq, ack, flags, 0);
    }

    static byte[] tcp(final int src, final int sport, final int dst, final int dport, final int seq,
        final int ack, final int flags, final int payload)
    {
        return frame((b, at) -> FrameWriter.tcp4(b, at, ip(src), sport, ip(dst), dport, seq, ack, flags, 64_000,
            payload));
    }

    static byte[] udp6(final int src, final int sport, final int dst, final int dport)
    {
        return frame((b, at) -> FrameWriter.udp6(b, at, 0xfd00L << 48, src, sport, 0xfd00L << 48, dst, dport, 16));
    }

    /** Tracks {@code frames} (one batch) at the test's clock; returns the verdicts. */
    List<Verdict> track(final ExecParams params, final byte[]... frames)
    {
        final FrameBatch batch = new FrameBatch(frames.length);
        for (final byte[] frame : frames)
        {
            batch.add(new UnsafeBuffer(frame), 0, frame.length);
        }
        final UnsafeBuffer out = new UnsafeBuffer(new byte[frames.length * Verdict.LENGTH]);
        worker.process(batch, params, clock.get(), out, 0);
        final List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < frames.length; i++)
        {
            verdicts.add(new Verdict().wrap(out, i * Verdict.LENGTH));
        }
        return verdicts;
    }

    /** UDP both ways in zones 0, 5 and 7 (mark and labels), a TCP handshake, a ping, and IPv6 UDP. */
    void trafficMix()
    {
        track(ExecParams.commit(0), udp(1, 1000, 2, 53), udp(2, 53, 1, 1000));
        track(ExecParams.commit(5), udp(3, 2000, 4, 53), udp(4, 53, 3, 2000));
        track(ExecParams.commit(0), tcp(5, 40000, 6, 80, 100, 0, TCP_SYN), tcp(6, 80, 5, 40000, 900, 101, TCP_SYN | TCP_ACK),
            tcp(5, 40000, 6, 80, 101, 901, TCP_ACK));
        track(ExecParams.commit(0), frame((b, at) -> FrameWriter.icmp4Echo(b, at, ip(7), ip(8), false, 77, 1)),
            frame((b, at) -> FrameWriter.icmp4Echo(b, at, ip(8), ip(7), true, 77, 1)));
        track(ExecParams.commit(7).mark(42, -1).label(0xabc, 0, -1L, -1L), udp(9, 3000, 10, 53),
            udp(10, 53, 9, 3000));
        track(ExecParams.commit(0), udp6(1, 4000, 2, 53), udp6(2, 53, 1, 4000));
        assertEquals(MIX_DUMP.size(), node.limits().count());
    }

    // ---- running dpctl -------------------------------------------------------------------------------------------

    ReplayCommandTest.Result dpctl(final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("dpctl", "--port", Integer.toString(server.port())));
        all.addAll(List.of(args));
        return ReplayCommandTest.run(all.toArray(new String[0]));
    }

    /** Runs a command that must succeed; returns its output lines. */
    List<String> ok(final String... args)
    {
        final ReplayCommandTest.Result result = dpctl(args);
        assertEquals(0, result.exitCode(), String.join(" ", args) + ": " + result.err());
        assertEquals("", result.err(), String.join(" ", args));
        return result.out().lines().toList();
    }

    /** Runs a command that must fail: one line on stderr naming the problem, exit code 2, nothing on stdout. */
    String fails(final String expectedInMessage, final String... args)
    {
        final ReplayCommandTest.Result result = dpctl(args);
        assertEquals(2, result.exitCode(), String.join(" ", args) + " printed " + result.out());
        assertEquals("", result.out(), String.join(" ", args));
        assertEquals(1, result.err().lines().count(), result.err());
        assertTrue(result.err().startsWith("ctrack dpctl: "), result.err());
        assertTrue(result.err().contains(expectedInMessage), "expected '" + expectedInMessage + "' in " + result.err());
        return result.err();
    }

    static List<String> sorted(final List<String> lines)
    {
        final List<String> copy = new ArrayList<>(lines);
        copy.sort(null);
        return copy;
    }

    static List<String> mixWithout(final String... fragments)
    {
        final List<String> lines = new ArrayList<>();
        for (final String line : MIX_DUMP)
        {
            if (Arrays.stream(fragments).noneMatch(line::contains))
            {
                lines.add(line);
            }
        }
        return sorted(lines);
    }

    /** Moves the sweepers' clock and waits until every bucket has swept at the new time. */
    void sweepAt(final long nowMs)
    {
        clock.set(nowMs);
        final long[] before = new long[node.buckets()];
        for (int b = 0; b < before.length; b++)
        {
            before[b] = node.bucketCounter(b, EngineCounter.SWEEP_STEPS);
        }
        await(() ->
        {
            for (int b = 0; b < before.length; b++)
            {
                if (node.bucketCounter(b, EngineCounter.SWEEP_STEPS) < before[b] + 2)
                {
                    return false;
                }
            }
            return true;
        }, "a sweep of every bucket");
    }

    static void await(final BooleanSupplier condition, final String what)
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                fail("timed out waiting for: " + what);
            }
            LockSupport.parkNanos(1_000_000);
        }
    }
}
