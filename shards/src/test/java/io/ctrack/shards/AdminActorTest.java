package io.ctrack.shards;

import io.ctrack.engine.ct.ConnMatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.timeout.TimeoutAttr;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.transport.PacketWorker;
import org.agrona.concurrent.UnsafeBuffer;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.junit.jupiter.api.AfterEach;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static io.ctrack.engine.testing.Traffic.verdict;
import static io.ctrack.shards.NodeTesting.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(LogCapturingExtension.class)
class AdminActorTest
{
    private ShardedNode node;
    private PacketWorker worker;
    private final long t0 = System.currentTimeMillis();

    @AfterEach
    void closeNode()
    {
        NodeTesting.close(node);
    }

    private void start(final String name, final int buckets)
    {
        node = ShardedNode.start(NodeTesting.settings(name, buckets));
        worker = node.newWorker(4);
    }

    private static List<byte[]> udpFlows(final int from, final int count)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = from; i < from + count; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).udp(1000 + (i & 0x7FFF), 53).build());
        }
        return frames;
    }

    private static List<byte[]> udpReplies(final int from, final int count)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = from; i < from + count; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Server(i), Traffic.v4Client(i)).udp(53, 1000 + (i & 0x7FFF)).build());
        }
        return frames;
    }

    private static byte[] syn(final int i, final int dport)
    {
        return TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).tcp(30_000 + i, dport).flags(SYN).seq(1)
            .build();
    }

    private UnsafeBuffer commit(final List<byte[]> frames, final ExecParams params)
    {
        return NodeTesting.track(worker, frames, params, t0, 256);
    }

    private UnsafeBuffer commit(final List<byte[]> frames, final int zone)
    {
        return commit(frames, ExecParams.commit(zone));
    }

    private static long ip4(final String address)
    {
        try
        {
            return ByteBuffer.wrap(InetAddress.getByName(address).getAddress()).getInt() & 0xFFFF_FFFFL;
        }
        catch (final Exception ex)
        {
            throw new IllegalArgumentException(ex);
        }
    }

    private static ConnMatch.Tuple fullTuple(final String src, final String dst, final int sport, final int dport)
    {
        return new ConnMatch.Tuple(true, 0, ip4(src), true, 0, ip4(dst), sport, dport, 0, 0, 0);
    }

    private static ConnMatch match(final int proto, final ConnMatch.Tuple orig)
    {
        return new ConnMatch(4, proto, orig, null, 0, 0, 0, 0, 0, 0);
    }

    private List<String> sortedDump(final int zone)
    {
        final List<String> lines = new ArrayList<>(NodeTesting.dump(node, zone));
        Collections.sort(lines);
        return lines;
    }

    private AdminActor.Result admin(
        final org.apache.pekko.japi.function.Function<org.apache.pekko.actor.typed.ActorRef<AdminActor.Result>,
            AdminActor.Command> command)
    {
        return node.ask(command);
    }

    private AdminActor.Result flushMatching(final int zone, final ConnMatch match)
    {
        return admin(replyTo -> new AdminActor.FlushMatching(zone, match, replyTo));
    }

    @Test
    @Timeout(60)
    void shouldFlushEveryConnection()
    {
        start("flush-all", 16);
        commit(udpFlows(0, 300), 0);
        commit(udpFlows(300, 100), 1);
        assertEquals(400, NodeTesting.countConnections(node));

        final AdminActor.Result result = ok(admin(AdminActor.FlushAll::new));

        assertEquals(400, result.value());
        assertEquals(0, NodeTesting.countConnections(node));
        assertTrue(NodeTesting.dump(node, -1).isEmpty());
        assertEquals(0, ok(admin(AdminActor.GetNConns::new)).value(), "limits released");
        assertEquals(400, node.counterTotals()[EngineCounter.CONN_FLUSHED.id()]);
        final UnsafeBuffer again = commit(udpFlows(0, 10), 0);
        assertEquals("new|trk", CtState.format(verdict(again, 0).ctState()), "flushed connections start over");
    }

    @Test
    @Timeout(60)
    void shouldFlushOneZoneOnly()
    {
        start("flush-zone", 16);
        commit(udpFlows(0, 120), 1);
        commit(udpFlows(0, 150), 2);
        commit(udpFlows(0, 90), 3);
        final Set<String> zone1 = new HashSet<>(NodeTesting.dump(node, 1));
        final Set<String> zone3 = new HashSet<>(NodeTesting.dump(node, 3));
        assertEquals(120, zone1.size());
        assertEquals(150, NodeTesting.dump(node, 2).size());

        assertEquals(150, ok(admin(replyTo -> new AdminActor.FlushZone(2, replyTo))).value());

        assertTrue(NodeTesting.dump(node, 2).isEmpty());
        final Set<String> rest = new HashSet<>(NodeTesting.dump(node, -1));
        final Set<String> expected = new HashSet<>(zone1);
        expected.addAll(zone3);
        assertEquals(expected, rest);
        assertEquals(0, node.limits().zoneCount(2));
        assertEquals(120, node.limits().zoneCount(1));
        assertEquals(0, ok(admin(replyTo -> new AdminActor.FlushZone(2, replyTo))).value());
    }

    @Test
    @Timeout(60)
    void shouldFlushOneConnectionByItsFiveTupleInItsZone()
    {
        start("flush-tuple", 16);
        final List<byte[]> syns = new ArrayList<>();
        for (int i = 0; i < 40; i++)
        {
            syns.add(syn(i, 80));
        }
        commit(syns, 5);
        commit(syns, 6);
        commit(udpFlows(100, 40), 5);
        final List<String> zone5 = sortedDump(5);
        final List<String> zone6 = sortedDump(6);

        // TCP connection 7 by its original tuple, in zone 5.
        final AdminActor.Result result = flushMatching(5,
            match(6, fullTuple(Traffic.v4Client(7), Traffic.v4Server(7), 30_007, 80)));
        assertTrue(result.ok(), result.text());
        assertEquals(1, result.value());
        final List<String> expected = new ArrayList<>(zone5);
        assertTrue(expected.removeIf(line -> line.startsWith("tcp,orig=(src=" + Traffic.v4Client(7) + ",")));
        assertEquals(expected, sortedDump(5));
        assertEquals(zone6, sortedDump(6), "the same tuple in another zone stays");

        // UDP connection 120 by its reply tuple.
        final AdminActor.Result byReply = flushMatching(5,
            match(17, fullTuple(Traffic.v4Server(120), Traffic.v4Client(120), 53, 1120)));
        assertTrue(byReply.ok(), byReply.text());
        assertTrue(expected.removeIf(line -> line.startsWith("udp,orig=(src=" + Traffic.v4Client(120) + ",")));
        assertEquals(expected, sortedDump(5));

        // Gone already, or never there.
        final AdminActor.Result again = flushMatching(5,
            match(6, fullTuple(Traffic.v4Client(7), Traffic.v4Server(7), 30_007, 80)));
        assertFalse(again.ok());
        assertEquals(AdminActor.TUPLE_NOT_FOUND, again.text());
        assertFalse(flushMatching(5, match(6, fullTuple(Traffic.v4Client(7), Traffic.v4Server(7), 30_007, 81))).ok());
        assertEquals(78, NodeTesting.dump(node, 5).size());
    }

    @Test
    @Timeout(60)
    void shouldFlushAnIcmpConnectionByItsTuple()
    {
        start("flush-icmp", 4);
        final List<byte[]> pings = new ArrayList<>();
        for (int i = 0; i < 10; i++)
        {
            pings.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).echo(8, 100 + i, 1).build());
        }
        commit(pings, 0);
        assertEquals(10, NodeTesting.countConnections(node));

        final AdminActor.Result result = flushMatching(0, new ConnMatch(4, 1,
            new ConnMatch.Tuple(true, 0, ip4(Traffic.v4Client(4)), true, 0, ip4(Traffic.v4Server(4)), 0, 0, 104, 8, 0),
            null, 0, 0, 0, 0, 0, 0));

        assertTrue(result.ok(), result.text());
        assertEquals(9, NodeTesting.countConnections(node));
        assertTrue(NodeTesting.dump(node, 0).stream().noneMatch(line -> line.contains("src=" + Traffic.v4Client(4) + ",")));
    }

    @Test
    @Timeout(60)
    void shouldFlushByPartialTuple()
    {
        start("flush-partial", 16);
        final List<byte[]> frames = new ArrayList<>();
        for (int i = 0; i < 60; i++)
        {
            frames.add(syn(i, i % 2 == 0 ? 80 : 443));
        }
        frames.addAll(udpFlows(0, 60));
        frames.add(TestPackets.ipv6("fd00:1::1", "fd00:2::1").udp(5000, 53).build());
        frames.add(TestPackets.ipv6("fd00:1::2", "fd00:2::1").udp(5000, 53).build());
        commit(frames, 0);
        commit(frames, 9);
        assertEquals(2 * 122, NodeTesting.countConnections(node));

        // Every TCP connection to port 80, in zone 0 only.
        final AdminActor.Result port80 = ok(flushMatching(0,
            new ConnMatch(0, 6, new ConnMatch.Tuple(false, 0, 0, false, 0, 0, 0, 80, 0, 0, 0), null, 0, 0, 0, 0, 0, 0)));
        assertEquals(30, port80.value());
        assertTrue(NodeTesting.dump(node, 0).stream().noneMatch(line -> line.contains("dport=80)")));
        assertEquals(122, NodeTesting.dump(node, 9).size(), "zone 9 untouched");

        // Everything from one client address, any protocol, any zone.
        final AdminActor.Result client3 = ok(flushMatching(-1, new ConnMatch(0, 0,
            new ConnMatch.Tuple(true, 0, ip4(Traffic.v4Client(3)), false, 0, 0, 0, 0, 0, 0, 0), null, 0, 0, 0, 0, 0, 0)));
        assertEquals(4, client3.value(), "TCP and UDP of client 3, in zones 0 and 9");
        assertTrue(NodeTesting.dump(node, -1).stream().noneMatch(line -> line.contains("src=" + Traffic.v4Client(3) + ",")));

        // An IPv6 source, matched in the reply tuple as destination.
        final long[] v6 = { 0xfd00_0001_0000_0000L, 0x2L };
        final AdminActor.Result v6Client = ok(flushMatching(-1, new ConnMatch(6, 17, null,
            new ConnMatch.Tuple(false, 0, 0, true, v6[0], v6[1], 0, 0, 0, 0, 0), 0, 0, 0, 0, 0, 0)));
        assertEquals(2, v6Client.value());
        assertTrue(NodeTesting.dump(node, -1).stream().noneMatch(line -> line.contains("fd00:1::2")));
        assertEquals(2 * 122 - 30 - 4 - 2, NodeTesting.countConnections(node));
    }

    @Test
    @Timeout(60)
    void shouldFlushByMaskedMark()
    {
        start("flush-mark", 16);
        commit(udpFlows(0, 20), ExecParams.commit(0).mark(0x0101, -1));
        commit(udpFlows(20, 20), ExecParams.commit(0).mark(0x0102, -1));
        commit(udpFlows(40, 20), ExecParams.commit(0).mark(0x0201, -1));
        commit(udpFlows(60, 20), 0);

        final AdminActor.Result result = ok(flushMatching(-1, new ConnMatch(0, 0, null, null, 0x0100, 0xFF00, 0, 0, 0, 0)));

        assertEquals(40, result.value());
        final List<String> rest = NodeTesting.dump(node, -1);
        assertEquals(40, rest.size());
        assertEquals(20, rest.stream().filter(line -> line.contains(",mark=513")).count());
        assertTrue(rest.stream().noneMatch(line -> line.contains(",mark=257") || line.contains(",mark=258")));
    }

    @Test
    @Timeout(60)
    void shouldFlushByMaskedLabel()
    {
        start("flush-label", 16);
        commit(udpFlows(0, 15), ExecParams.commit(0).label(0x1, 0, -1L, -1L));
        commit(udpFlows(15, 15), ExecParams.commit(0).label(0x3, 0x8000_0000_0000_0000L, -1L, -1L));
        commit(udpFlows(30, 15), ExecParams.commit(0).label(0x2, 0, -1L, -1L));
        commit(udpFlows(45, 15), 0);

        // Bit 0 of the low word set, whatever else.
        final AdminActor.Result lowBit = ok(flushMatching(-1, new ConnMatch(0, 0, null, null, 0, 0, 0x1, 0, 0x1, 0)));
        assertEquals(30, lowBit.value());
        assertEquals(30, NodeTesting.countConnections(node));

        // The high word under a mask: nothing left has bit 63 set.
        assertEquals(0, ok(flushMatching(-1, new ConnMatch(0, 0, null, null, 0, 0, 0, 1L << 63, 0, 1L << 63))).value());
        // Label 0x2 exactly (a full mask).
        assertEquals(15, ok(flushMatching(-1, new ConnMatch(0, 0, null, null, 0, 0, 0x2, 0, -1L, -1L))).value());
        final List<String> rest = NodeTesting.dump(node, -1);
        assertEquals(15, rest.size());
        assertTrue(rest.stream().noneMatch(line -> line.contains("labels=")), rest.toString());
    }

    @Test
    @Timeout(60)
    void shouldDumpTwentyThousandConnectionsInSeveralChunks()
    {
        start("dump", 4);
        final List<byte[]> first = udpFlows(0, 10_000);
        final List<byte[]> second = udpFlows(10_000, 10_000);
        final long nowMs = System.currentTimeMillis();
        NodeTesting.track(worker, first, ExecParams.commit(0), nowMs, 1024);
        NodeTesting.track(worker, second, ExecParams.commit(3), nowMs, 1024);
        final ConntrackDriver embedded = new ConntrackDriver();
        embedded.batch(ExecParams.commit(0), nowMs, first.toArray(new byte[0][]));
        embedded.batch(ExecParams.commit(3), nowMs, second.toArray(new byte[0][]));

        final AtomicInteger chunks = new AtomicInteger();
        final List<String> all = NodeTesting.dump(node, -1, chunks);

        assertEquals(20_000, all.size());
        assertEquals(20_000, new HashSet<>(all).size(), "no line twice");
        assertTrue(chunks.get() > node.buckets(), "several chunks per bucket: " + chunks.get());
        Collections.sort(all);
        assertEquals(embedded.dumpAll(nowMs), all);
        final List<String> zone3 = NodeTesting.dump(node, 3);
        assertEquals(10_000, zone3.size());
        assertTrue(zone3.stream().allMatch(line -> line.endsWith(",zone=3")));
    }

    @Test
    @Timeout(60)
    void shouldRefuseCommitsOverAZoneLimitAcrossBuckets()
    {
        start("zone-limit", 16);
        ok(admin(replyTo -> new AdminActor.SetZoneLimits(null, List.<int[]>of(new int[] { 7, 50 }), replyTo)));

        final UnsafeBuffer zone7 = commit(udpFlows(0, 200), 7);
        final UnsafeBuffer zone8 = commit(udpFlows(0, 200), 8);

        assertEquals(50, NodeTesting.withConnection(zone7, 200));
        for (int i = 0; i < 200; i++)
        {
            assertEquals("new|trk", CtState.format(verdict(zone7, i).ctState()), "refused commits are still new");
        }
        assertEquals(200, NodeTesting.withConnection(zone8, 200), "zone 8 has no limit");
        assertEquals(150, node.counterTotals()[EngineCounter.COMMIT_REFUSED_ZONE_LIMIT.id()]);
        assertEquals(50, NodeTesting.dump(node, 7).size());
        assertEquals(50, node.limits().zoneCount(7));
        final String limits = ok(admin(replyTo -> new AdminActor.GetZoneLimits(List.of(7, 8), replyTo))).text();
        assertEquals("default limit=0\nzone=7,limit=50,count=50\nzone=8,limit=0,count=200", limits);

        // A default limit for zones without their own.
        ok(admin(replyTo -> new AdminActor.SetZoneLimits(10, List.of(), replyTo)));
        assertEquals(10, NodeTesting.withConnection(commit(udpFlows(1000, 100), 9), 100));
        assertEquals(0, NodeTesting.withConnection(commit(udpFlows(2000, 5), 8), 5), "zone 8 is over the default");
        assertEquals(0, NodeTesting.withConnection(commit(udpFlows(3000, 5), 7), 5), "zone 7 is at its own limit");

        // Deleting limits: zone 7 falls back to the default (10, already exceeded), then nothing is limited.
        ok(admin(replyTo -> new AdminActor.DeleteZoneLimits(false, List.of(7), replyTo)));
        assertEquals(0, NodeTesting.withConnection(commit(udpFlows(4000, 5), 7), 5));
        ok(admin(replyTo -> new AdminActor.DeleteZoneLimits(true, List.of(), replyTo)));
        assertEquals(5, NodeTesting.withConnection(commit(udpFlows(5000, 5), 7), 5));
        assertEquals("default limit=0", ok(admin(replyTo -> new AdminActor.GetZoneLimits(List.of(), replyTo))).text());

        // Bad arguments are answered as errors.
        assertFalse(admin(replyTo -> new AdminActor.SetZoneLimits(null, List.<int[]>of(new int[] { 70_000, 1 }),
            replyTo)).ok());
        assertFalse(admin(replyTo -> new AdminActor.SetZoneLimits(-1, List.of(), replyTo)).ok());
        assertFalse(admin(replyTo -> new AdminActor.GetZoneLimits(List.of(-1), replyTo)).ok());
    }

    @Test
    @Timeout(60)
    void shouldKeepSharedLimitCountsExactUnderConcurrentCommits() throws Exception
    {
        start("limits-concurrent", 16);
        ok(admin(replyTo -> new AdminActor.SetZoneLimits(null, List.<int[]>of(new int[] { 3, 1000 }), replyTo)));
        final int workers = 4;
        final int perWorker = 600;
        final List<PacketWorker> packetWorkers = new ArrayList<>();
        for (int w = 0; w < workers; w++)
        {
            packetWorkers.add(node.newWorker(2));
        }
        final List<CompletableFuture<int[]>> results = new ArrayList<>();
        for (int w = 0; w < workers; w++)
        {
            final PacketWorker pw = packetWorkers.get(w);
            final int base = w * perWorker;
            results.add(CompletableFuture.supplyAsync(() ->
            {
                final int[] committed = new int[2];
                for (int first = 0; first < perWorker; first += 50)
                {
                    final List<byte[]> frames = udpFlows(base + first, 50);
                    committed[0] += NodeTesting.withConnection(NodeTesting.track(pw, frames, ExecParams.commit(3),
                        t0, 50), 50);
                    committed[1] += NodeTesting.withConnection(NodeTesting.track(pw, frames, ExecParams.commit(4),
                        t0, 50), 50);
                }
                return committed;
            }, runnable -> new Thread(runnable, "packet-thread").start()));
        }
        int zone3 = 0;
        int zone4 = 0;
        for (final CompletableFuture<int[]> result : results)
        {
            final int[] committed = result.get(30, TimeUnit.SECONDS);
            zone3 += committed[0];
            zone4 += committed[1];
        }

        assertEquals(1000, zone3, "exactly the limit, from all workers together");
        assertEquals(workers * perWorker, zone4);
        assertEquals(1000, node.limits().zoneCount(3));
        assertEquals(workers * perWorker, node.limits().zoneCount(4));
        assertEquals(1000 + workers * perWorker, node.limits().count());
        assertEquals(node.limits().count(), NodeTesting.countConnections(node));
        assertEquals(workers * perWorker - 1000, node.counterTotals()[EngineCounter.COMMIT_REFUSED_ZONE_LIMIT.id()]);

        assertEquals(1000, ok(admin(replyTo -> new AdminActor.FlushZone(3, replyTo))).value());
        assertEquals(0, node.limits().zoneCount(3));
        assertEquals(workers * perWorker, node.limits().count());
    }

    @Test
    @Timeout(60)
    void shouldRefuseCommitsBeyondMaxConns()
    {
        start("maxconns", 16);
        assertEquals(SharedLimits.DEFAULT_MAX_CONNS, ok(admin(AdminActor.GetMaxConns::new)).value());
        ok(admin(replyTo -> new AdminActor.SetMaxConns(100, replyTo)));
        assertEquals(100, ok(admin(AdminActor.GetMaxConns::new)).value());

        final UnsafeBuffer out = commit(udpFlows(0, 300), 0);

        assertEquals(100, NodeTesting.withConnection(out, 300));
        assertEquals(100, ok(admin(AdminActor.GetNConns::new)).value());
        assertEquals(100, NodeTesting.countConnections(node));
        assertEquals(200, node.counterTotals()[EngineCounter.COMMIT_REFUSED_TABLE_FULL.id()]);
        assertFalse(admin(replyTo -> new AdminActor.SetMaxConns(-1, replyTo)).ok());
        assertFalse(admin(replyTo -> new AdminActor.SetMaxConns(1L << 33, replyTo)).ok());
        assertEquals(100, ok(admin(AdminActor.GetMaxConns::new)).value());

        ok(admin(replyTo -> new AdminActor.SetMaxConns(150, replyTo)));
        assertEquals(50, NodeTesting.withConnection(commit(udpFlows(1000, 100), 0), 100));
    }

    @Test
    @Timeout(60)
    void shouldApplyATimeoutPolicyInEveryBucket()
    {
        start("timeouts", 16);
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.UDP_FIRST.ordinal()] = 1;
        seconds[TimeoutAttr.UDP_SINGLE.ordinal()] = 1;
        seconds[TimeoutAttr.UDP_MULTIPLE.ordinal()] = 1;
        ok(admin(replyTo -> new AdminActor.SetTimeoutPolicy(3, seconds, replyTo)));
        ok(admin(replyTo -> new AdminActor.SetZonePolicy(5, 3, replyTo)));

        final int n = 100;
        NodeTesting.track(worker, udpFlows(0, n), ExecParams.commit(5), t0, 64);
        NodeTesting.track(worker, udpFlows(0, n), ExecParams.commit(6), t0, 64);
        // Replies half a second later: both zones still know their connections.
        assertAll(NodeTesting.track(worker, udpReplies(0, n), ExecParams.commit(5), t0 + 500, 64), n, "est|rpl|trk");
        assertAll(NodeTesting.track(worker, udpReplies(0, n), ExecParams.commit(6), t0 + 500, 64), n, "est|rpl|trk");

        // Two seconds after that, the 1 s policy has expired zone 5's connections in every bucket; zone 6 keeps 30 s.
        assertAll(NodeTesting.track(worker, udpFlows(0, n), ExecParams.commit(5), t0 + 2500, 64), n, "new|trk");
        assertAll(NodeTesting.track(worker, udpFlows(0, n), ExecParams.commit(6), t0 + 2500, 64), n, "est|trk");
        for (int b = 0; b < node.buckets(); b++)
        {
            assertTrue(node.bucketCounter(b, EngineCounter.CONN_EXPIRED) > 0, "bucket " + b + " applied the policy");
        }

        // Deleted: new connections in zone 5 get the defaults again.
        ok(admin(replyTo -> new AdminActor.DeleteTimeoutPolicy(3, replyTo)));
        NodeTesting.track(worker, udpFlows(1000, n), ExecParams.commit(5), t0 + 3000, 64);
        assertAll(NodeTesting.track(worker, udpReplies(1000, n), ExecParams.commit(5), t0 + 6000, 64), n,
            "est|rpl|trk");
    }

    private static void assertAll(final UnsafeBuffer verdicts, final int count, final String flags)
    {
        for (int i = 0; i < count; i++)
        {
            assertEquals(flags, CtState.format(verdict(verdicts, i).ctState()), "packet " + i);
        }
    }

    @Test
    @Timeout(60)
    void shouldToggleTcpSequenceCheckingInEveryBucket()
    {
        start("seqcheck", 16);
        final int n = 64;
        establish(0, n);
        assertAllOutOfWindow(outOfWindow(0, n), n);

        final AdminActor.Result off = ok(admin(replyTo -> new AdminActor.SetTcpSeqCheck(false, replyTo)));
        assertEquals("disabling TCP sequence checking successful", off.text());
        final UnsafeBuffer unchecked = outOfWindow(0, n);
        for (int i = 0; i < n; i++)
        {
            assertEquals("est|trk", CtState.format(verdict(unchecked, i).ctState()), "connection " + i);
        }

        final AdminActor.Result on = ok(admin(replyTo -> new AdminActor.SetTcpSeqCheck(true, replyTo)));
        assertEquals("enabling TCP sequence checking successful", on.text());
        establish(1000, n);
        assertAllOutOfWindow(outOfWindow(1000, n), n);
    }

    private void establish(final int from, final int n)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = from; i < from + n; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).tcp(40_000, 80).flags(SYN).seq(1000)
                .window(64240).build());
            frames.add(TestPackets.ipv4(Traffic.v4Server(i), Traffic.v4Client(i)).tcp(80, 40_000).flags(SYN | ACK)
                .seq(5000).ack(1001).window(65160).build());
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).tcp(40_000, 80).flags(ACK).seq(1001)
                .ack(5001).window(502).build());
        }
        final UnsafeBuffer out = NodeTesting.track(worker, frames, ExecParams.commit(0), t0, 96);
        for (int i = 0; i < n; i++)
        {
            assertEquals("est|trk", CtState.format(verdict(out, i * 3 + 2).ctState()));
        }
    }

    private UnsafeBuffer outOfWindow(final int from, final int n)
    {
        final List<byte[]> frames = new ArrayList<>();
        for (int i = from; i < from + n; i++)
        {
            frames.add(TestPackets.ipv4(Traffic.v4Client(i), Traffic.v4Server(i)).tcp(40_000, 80).flags(ACK)
                .seq(1001 + 0x4000_0000L).ack(5001).window(502).payload(10).build());
        }
        return NodeTesting.track(worker, frames, ExecParams.commit(0), t0 + 10, 64);
    }

    private static void assertAllOutOfWindow(final UnsafeBuffer verdicts, final int n)
    {
        for (int i = 0; i < n; i++)
        {
            final Verdict v = verdict(verdicts, i);
            assertEquals("inv|trk", CtState.format(v.ctState()), "connection " + i);
            assertEquals(EngineCounter.INVALID_TCP_WINDOW.id(), v.reason(), "connection " + i);
        }
    }

    /**
     * The packet path takes time from the packet thread (invariant 6); a dump should list the connections that
     * are live at that time, as the embedded engine's does. The buckets read the wall clock instead.
     */
    @Test
    @Timeout(60)
    void shouldDumpConnectionsTrackedAtThePacketClock()
    {
        start("dump-clock", 4);
        final long pcapTimeMs = 1_300_000_000_000L;
        final List<byte[]> frames = udpFlows(0, 50);
        NodeTesting.track(worker, frames, ExecParams.commit(0), pcapTimeMs, 50);
        final ConntrackDriver embedded = new ConntrackDriver();
        embedded.batch(ExecParams.commit(0), pcapTimeMs, frames.toArray(new byte[0][]));

        final List<String> lines = sortedDump(-1);

        assertEquals(50, lines.size(), "connections listed by dump-conntrack");
        assertEquals(embedded.dumpAll(pcapTimeMs + 1), lines);
        assertTrue(flushMatching(0, match(17, fullTuple(Traffic.v4Client(1), Traffic.v4Server(1), 1001, 53))).ok());
    }

    /** Control-path arguments a bucket cannot use are answered with an error, without failing the buckets. */
    @Test
    @Timeout(60)
    void shouldAnswerBadTimeoutPolicyArgumentsWithAnError() throws Exception
    {
        start("bad-policy", 16);
        final AdminActor.Result result = AskPattern.<AdminActor.Command, AdminActor.Result>ask(node.admin(),
            replyTo -> new AdminActor.SetTimeoutPolicy(3, new int[3], replyTo), Duration.ofSeconds(5),
            node.system().scheduler()).toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertFalse(result.ok());
        assertTrue(result.text().contains("timeouts"), result.text());
        for (int b = 0; b < node.buckets(); b++)
        {
            assertEquals(0, node.bucketRestarts(b), "bucket " + b + " failed on a bad admin argument");
        }
    }

    @Test
    @Timeout(60)
    void shouldReportConnectionCountsFromTheTablesAndTheLimits()
    {
        start("counts", 16);
        commit(udpFlows(0, 250), 0);
        commit(Arrays.asList(syn(1, 80), syn(2, 80)), 1);

        assertEquals(252, NodeTesting.countConnections(node));
        assertEquals(252, ok(admin(AdminActor.GetNConns::new)).value());
        final Set<String> zones = NodeTesting.dump(node, -1).stream()
            .map(line -> line.contains(",zone=") ? line.substring(line.indexOf(",zone=")) : "zone 0")
            .collect(Collectors.toSet());
        assertTrue(zones.contains("zone 0"), zones.toString());
        assertTrue(zones.stream().anyMatch(z -> z.startsWith(",zone=1")), zones.toString());
    }
}
