package io.ctrack.shards;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.nat.NatSpec;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.transport.PacketWorker;
import io.ctrack.engine.testing.Traffic;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import static io.ctrack.engine.testing.Traffic.verdict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NAT through the sharded runtime: reservations across buckets, forwarded replies, aliases, exhaustion. */
@ExtendWith(LogCapturingExtension.class)
class ShardedNatTest
{
    private static final long POOL = v4("10.9.9.9");

    static long v4(final String dotted)
    {
        final String[] p = dotted.split("\\.");
        return (Long.parseLong(p[0]) << 24) | (Long.parseLong(p[1]) << 16) | (Long.parseLong(p[2]) << 8) | Long.parseLong(p[3]);
    }

    private static NatSpec snat(final int minPort, final int maxPort)
    {
        return NatSpec.of(true, false, 0, POOL, 0, POOL, minPort, maxPort, 0);
    }

    private static String src(final byte[] f)
    {
        return address(f, 26) + ":" + ((f[34] & 0xFF) << 8 | (f[35] & 0xFF));
    }

    private static String dst(final byte[] f)
    {
        return address(f, 30) + ":" + ((f[36] & 0xFF) << 8 | (f[37] & 0xFF));
    }

    private static String address(final byte[] f, final int at)
    {
        try
        {
            return InetAddress.getByAddress(Arrays.copyOfRange(f, at, at + 4)).getHostAddress();
        }
        catch (final Exception ex)
        {
            throw new IllegalStateException(ex);
        }
    }

    /** Tracks frames (rewritten in place) in batches; returns their verdicts. */
    private static UnsafeBuffer send(final PacketWorker worker, final List<byte[]> frames, final ExecParams params,
        final long nowMs)
    {
        final UnsafeBuffer verdicts = Traffic.poisoned(frames.size());
        for (int first = 0; first < frames.size(); first += 32)
        {
            final int n = Math.min(32, frames.size() - first);
            final FrameBatch batch = new FrameBatch(n);
            for (final byte[] f : frames.subList(first, first + n))
            {
                batch.add(new UnsafeBuffer(f), 0, f.length);
            }
            worker.process(batch, params, nowMs, verdicts, first * Verdict.LENGTH);
        }
        return verdicts;
    }

    private static void assertAllAnswered(final UnsafeBuffer verdicts, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            assertEquals(0, verdict(verdicts, i).flags() & Verdict.FLAG_DROPPED, "packet " + i + " dropped, reason "
                + verdict(verdicts, i).reason());
        }
    }

    private static AdminActor.Result checkNat(final ShardedNode node)
    {
        return node.ask(AdminActor.CheckNat::new);
    }

    @Test
    @Timeout(120)
    void shouldTranslateAcrossBucketsAndUntranslateEveryReply()
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("nat-basic", 8));
        try
        {
            final PacketWorker worker = node.newWorker(4);
            final List<byte[]> out = new ArrayList<>();
            final List<String> clients = new ArrayList<>();
            for (int i = 0; i < 200; i++)
            {
                final String client = "10.1." + (i / 200) + "." + (1 + i % 200);
                clients.add(client + ":" + (20000 + i));
                out.add(TestPackets.ipv4(client, "10.2.0.1").udp(20000 + i, 53).payload(8).build());
            }
            final UnsafeBuffer v = send(worker, out, ExecParams.commit(0).nat(snat(0, 0)), 1000);
            final Set<String> translated = new HashSet<>();
            for (int i = 0; i < out.size(); i++)
            {
                assertEquals("new|trk|snat", CtState.format(verdict(v, i).ctState()), "packet " + i);
                assertTrue(src(out.get(i)).startsWith("10.9.9.9:"), src(out.get(i)));
                translated.add(src(out.get(i)));
            }
            assertEquals(out.size(), translated.size(), "every connection has its own external tuple");
            final AdminActor.Result links = NodeTesting.ok(checkNat(node));
            assertTrue(links.value() > 0, "some reply tuples live in another bucket: " + links.text());

            // Each server answers the translated tuple; every reply must reach its own client.
            final List<byte[]> replies = new ArrayList<>();
            for (final byte[] f : out)
            {
                final String[] t = src(f).split(":");
                replies.add(TestPackets.ipv4("10.2.0.1", t[0]).udp(53, Integer.parseInt(t[1])).payload(4).build());
            }
            final UnsafeBuffer r = send(worker, replies, new ExecParams().zone(0).nat(NatSpec.PLAIN), 1001);
            for (int i = 0; i < replies.size(); i++)
            {
                assertEquals("est|rpl|trk|dnat", CtState.format(verdict(r, i).ctState()), "reply " + i);
                assertEquals(clients.get(i), dst(replies.get(i)), "reply " + i + " untranslated to its client");
                assertEquals(verdict(v, i).connId(), verdict(r, i).connId());
            }
            assertTrue(node.counterTotals()[EngineCounter.NAT_FORWARDED.id()] > 0, "replies were forwarded to owners");

            // Flushing removes owners and then their aliases: nothing dangles.
            NodeTesting.ok(node.ask(AdminActor.FlushAll::new));
            NodeTesting.await(() -> checkNat(node).ok() && checkNat(node).value() == 0, "aliases released");
            assertEquals(0, NodeTesting.countConnections(node));
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    @Test
    @Timeout(120)
    void shouldNeverGiveTwoConcurrentConnectionsTheSameExternalTuple() throws Exception
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("nat-race", 8));
        try
        {
            final int threads = 3;
            final int perThread = 60;
            final int poolPorts = 64;
            final Set<String> external = ConcurrentHashMap.newKeySet();
            final List<String> duplicates = Collections.synchronizedList(new ArrayList<>());
            final AtomicInteger granted = new AtomicInteger();
            final AtomicInteger refused = new AtomicInteger();
            final CyclicBarrier start = new CyclicBarrier(threads);
            final List<Thread> workers = new ArrayList<>();
            final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++)
            {
                final int tid = t;
                final PacketWorker worker = node.newWorker(4);
                workers.add(new Thread(() ->
                {
                    try
                    {
                        final List<byte[]> frames = new ArrayList<>();
                        for (int i = 0; i < perThread; i++)
                        {
                            frames.add(TestPackets.ipv4("10.1." + tid + "." + (1 + i), "10.2.0.1").udp(3000, 53).build());
                        }
                        start.await();
                        final UnsafeBuffer v = send(worker, frames, ExecParams.commit(0).nat(snat(5000, 5000 + poolPorts - 1)), 1000);
                        for (int i = 0; i < frames.size(); i++)
                        {
                            final String flags = CtState.format(verdict(v, i).ctState());
                            if (flags.equals("new|trk|snat"))
                            {
                                granted.incrementAndGet();
                                if (!external.add(src(frames.get(i))))
                                {
                                    duplicates.add(src(frames.get(i)));
                                }
                            }
                            else if (flags.equals("new|trk") && verdict(v, i).connId() == 0)
                            {
                                refused.incrementAndGet();
                            }
                            else
                            {
                                throw new AssertionError("unexpected " + flags);
                            }
                        }
                    }
                    catch (final Throwable ex)
                    {
                        failures.add(ex);
                    }
                }, "nat-worker-" + t));
            }
            workers.forEach(Thread::start);
            for (final Thread w : workers)
            {
                w.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(List.of(), duplicates, "duplicate external tuples");
            assertEquals(poolPorts, granted.get(), "the pool of 64 ports is used up, exactly");
            assertEquals(threads * perThread - poolPorts, refused.get());
            assertEquals(threads * perThread - poolPorts, node.counterTotals()[EngineCounter.NAT_EXHAUSTED.id()]);
            // The dump agrees: 64 connections, 64 distinct reply tuples.
            final List<String> dump = NodeTesting.dump(node, -1);
            assertEquals(poolPorts, dump.size());
            final Set<String> replyTuples = new HashSet<>();
            dump.forEach(line -> replyTuples.add(line.substring(line.indexOf("reply="))));
            assertEquals(poolPorts, replyTuples.size());
            NodeTesting.ok(checkNat(node));
        }
        finally
        {
            NodeTesting.close(node);
        }
    }

    @Test
    @Timeout(120)
    void shouldKeepOwnersAndAliasesPairedAfterRandomInsertsRepliesFlushesAndExpiry()
    {
        final ShardedNode node = ShardedNode.start(NodeTesting.settings("nat-property", 4));
        try
        {
            final PacketWorker worker = node.newWorker(4);
            final Random random = new Random(99);
            long now = 1_000;
            for (int round = 0; round < 40; round++)
            {
                final List<byte[]> frames = new ArrayList<>();
                for (int i = 0; i < 40; i++)
                {
                    frames.add(TestPackets.ipv4("10.1.0." + (1 + random.nextInt(100)), "10.2.0." + (1 + random.nextInt(3)))
                        .udp(1024 + random.nextInt(8), 53).build());
                }
                final UnsafeBuffer vo = send(worker, frames, ExecParams.commit(random.nextInt(2)).nat(snat(7000, 7099)), now);
                assertAllAnswered(vo, frames.size());
                final List<byte[]> replies = new ArrayList<>();
                for (int i = 0; i < 20; i++)
                {
                    replies.add(TestPackets.ipv4("10.2.0." + (1 + random.nextInt(3)), "10.9.9.9")
                        .udp(53, 7000 + random.nextInt(100)).build());
                }
                final UnsafeBuffer vr = send(worker, replies, new ExecParams().zone(random.nextInt(2)).nat(NatSpec.PLAIN), now);
                assertAllAnswered(vr, replies.size());
                switch (random.nextInt(4))
                {
                    case 0:
                        NodeTesting.ok(node.ask(replyTo -> new AdminActor.FlushZone(random.nextInt(2), replyTo)));
                        break;
                    case 1:
                        // Time passes: UDP connections of one packet expire after 30 s and go on lookup.
                        now += 20_000 + random.nextInt(20_000);
                        break;
                    default:
                        break;
                }
            }
            NodeTesting.await(() -> checkNat(node).ok(), "owners and aliases paired: " + checkNat(node).text());
            final long[] totals = node.counterTotals();
            assertEquals(0, totals[EngineCounter.DROPPED_NAT_HELD_FULL.id()]);
            assertEquals(0, totals[EngineCounter.DROPPED_VERDICT_TIMEOUT.id()], "every packet was answered in time");
            assertEquals(0, totals[EngineCounter.NAT_RESERVATION_TIMEOUT.id()]);
            assertTrue(totals[EngineCounter.NAT_RESERVATIONS.id()] > 0, "reservations crossed buckets");
        }
        finally
        {
            NodeTesting.close(node);
        }
    }
}
