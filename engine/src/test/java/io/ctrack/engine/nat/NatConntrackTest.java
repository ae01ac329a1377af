package io.ctrack.engine.nat;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.DumpFormat;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.TestPackets;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NAT through the single-table engine: Open vSwitch's semantics for states, translation and exhaustion. */
class NatConntrackTest
{
    private final ConntrackDriver driver = new ConntrackDriver();

    static long v4(final String dotted)
    {
        final String[] p = dotted.split("\\.");
        return (Long.parseLong(p[0]) << 24) | (Long.parseLong(p[1]) << 16) | (Long.parseLong(p[2]) << 8) | Long.parseLong(p[3]);
    }

    static NatSpec snat(final String min, final String max, final int minPort, final int maxPort)
    {
        return NatSpec.of(true, false, 0, v4(min), 0, v4(max), minPort, maxPort, 0);
    }

    static NatSpec dnat(final String addr, final int port)
    {
        return NatSpec.of(false, false, 0, v4(addr), 0, v4(addr), port, port, 0);
    }

    private static ExecParams commitNat(final NatSpec spec)
    {
        return ExecParams.commit(0).nat(spec);
    }

    private static ExecParams natOnly()
    {
        return new ExecParams().zone(0).nat(NatSpec.PLAIN);
    }

    private static String flags(final Verdict v)
    {
        return CtState.format(v.ctState());
    }

    @Test
    void shouldTranslateTheSourceOfUdpAndTheReplyBack()
    {
        final byte[] out = TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(5000, 53).payload(20).build();
        final Verdict v = driver.send(out, commitNat(snat("10.1.1.240", "10.1.1.240", 0, 0)), 1000);
        assertEquals("new|trk|snat", flags(v));
        assertEquals("10.1.1.240", FrameFacts.src(out));
        assertEquals("10.1.1.2", FrameFacts.dst(out));
        assertEquals(5000, FrameFacts.sport(out), "a free source port is kept");
        FrameFacts.assertChecksums(out);

        final byte[] reply = TestPackets.ipv4("10.1.1.2", "10.1.1.240").udp(53, 5000).payload(7).build();
        final Verdict r = driver.send(reply, natOnly(), 1001);
        assertEquals("est|rpl|trk|dnat", flags(r));
        assertEquals(v.connId(), r.connId());
        assertEquals("10.1.1.2", FrameFacts.src(reply));
        assertEquals("10.1.1.1", FrameFacts.dst(reply));
        assertEquals(5000, FrameFacts.dport(reply));
        FrameFacts.assertChecksums(reply);

        final List<String> dump = new ArrayList<>();
        driver.conntrack().table().forEach(-1, 1002, e -> dump.add(DumpFormat.format(e)));
        assertEquals(List.of("udp,orig=(src=10.1.1.1,dst=10.1.1.2,sport=5000,dport=53),"
            + "reply=(src=10.1.1.2,dst=10.1.1.240,sport=53,dport=5000)"), dump);
    }

    @Test
    void shouldMoveToTheNextPortWhenTheReplyTupleIsTakenAndFixTheTcpChecksum()
    {
        final NatSpec spec = snat("10.1.1.240", "10.1.1.240", 0, 0);
        final byte[] a = TestPackets.ipv4("10.1.1.1", "10.1.1.9").tcp(40000, 80).flags(TestPackets.SYN).seq(1).build();
        final byte[] b = TestPackets.ipv4("10.1.1.3", "10.1.1.9").tcp(40000, 80).flags(TestPackets.SYN).seq(7).build();
        assertEquals("new|trk|snat", flags(driver.send(a, commitNat(spec), 1000)));
        assertEquals("new|trk|snat", flags(driver.send(b, commitNat(spec), 1000)));
        assertEquals(40000, FrameFacts.sport(a));
        assertEquals(40001, FrameFacts.sport(b), "the second client's port is taken on the NAT address");
        assertEquals("10.1.1.240", FrameFacts.src(b));
        FrameFacts.assertChecksums(a);
        FrameFacts.assertChecksums(b);

        // The server's SYN-ACK to the second translated tuple goes back to the second client.
        final byte[] synAck = TestPackets.ipv4("10.1.1.9", "10.1.1.240").tcp(80, 40001)
            .flags(TestPackets.SYN | TestPackets.ACK).seq(100).ack(8).build();
        final Verdict r = driver.send(synAck, natOnly(), 1001);
        assertEquals("est|rpl|trk|dnat", flags(r));
        assertEquals("10.1.1.3", FrameFacts.dst(synAck));
        assertEquals(40000, FrameFacts.dport(synAck));
        FrameFacts.assertChecksums(synAck);
    }

    @Test
    void shouldRefuseTheCommitWhenThePoolIsExhaustedAndReuseATupleOnceFreed()
    {
        final NatSpec spec = snat("10.1.1.240", "10.1.1.240", 1000, 1001);
        final Set<Integer> ports = new HashSet<>();
        for (int client = 1; client <= 2; client++)
        {
            final byte[] p = TestPackets.ipv4("10.1.1." + client, "10.1.1.9").udp(5000, 53).build();
            assertEquals("new|trk|snat", flags(driver.send(p, commitNat(spec), 1000)));
            ports.add(FrameFacts.sport(p));
        }
        assertEquals(Set.of(1000, 1001), ports);

        final byte[] third = TestPackets.ipv4("10.1.1.3", "10.1.1.9").udp(5000, 53).build();
        final byte[] before = third.clone();
        final Verdict v = driver.send(third, commitNat(spec), 1000);
        assertEquals("new|trk", flags(v), "Open vSwitch answers new and commits nothing on exhaustion");
        assertEquals(0, v.connId());
        assertEquals(1, driver.conntrack().counter(EngineCounter.NAT_EXHAUSTED));
        assertEquals(2, driver.conntrack().table().size());
        assertTrue(java.util.Arrays.equals(before, third), "the packet is not rewritten");

        driver.conntrack().table().flushAll(100);
        final byte[] again = TestPackets.ipv4("10.1.1.3", "10.1.1.9").udp(5000, 53).build();
        assertEquals("new|trk|snat", flags(driver.send(again, commitNat(spec), 1000)));
    }

    @Test
    void shouldTranslateTheDestinationAndPortAndUntranslateTheReply()
    {
        final byte[] syn = TestPackets.ipv4("192.168.0.5", "1.2.3.4").tcp(33000, 80).flags(TestPackets.SYN).seq(9).build();
        assertEquals("new|trk|dnat", flags(driver.send(syn, commitNat(dnat("10.0.0.100", 8080)), 1000)));
        assertEquals("10.0.0.100", FrameFacts.dst(syn));
        assertEquals(8080, FrameFacts.dport(syn));
        assertEquals(33000, FrameFacts.sport(syn));
        FrameFacts.assertChecksums(syn);

        final byte[] synAck = TestPackets.ipv4("10.0.0.100", "192.168.0.5").tcp(8080, 33000)
            .flags(TestPackets.SYN | TestPackets.ACK).seq(50).ack(10).build();
        assertEquals("est|rpl|trk|snat", flags(driver.send(synAck, natOnly(), 1001)));
        assertEquals("1.2.3.4", FrameFacts.src(synAck));
        assertEquals(80, FrameFacts.sport(synAck));
        FrameFacts.assertChecksums(synAck);
    }

    @Test
    void shouldUntranslateAnIcmpErrorAndItsQuotedPacket()
    {
        final byte[] out = TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(5000, 53).payload(12).build();
        driver.send(out, commitNat(snat("10.1.1.240", "10.1.1.240", 0, 0)), 1000);
        // The server answers the translated packet with "port unreachable", quoting it as it arrived.
        final byte[] quoted = java.util.Arrays.copyOfRange(out, 14, out.length);
        final byte[] error = TestPackets.ipv4("10.1.1.2", "10.1.1.240").icmpError(3, 3, quoted).build();
        final Verdict v = driver.send(error, natOnly(), 1001);
        assertEquals("rel|rpl|trk|dnat", flags(v));
        assertEquals("10.1.1.1", FrameFacts.dst(error), "outer destination untranslated");
        final int inner = FrameFacts.l4(error) + 8;
        assertEquals("10.1.1.1", FrameFacts.address(error, inner + 12, 4), "quoted source untranslated");
        assertEquals(5000, FrameFacts.u16(error, inner + 20), "quoted source port untranslated");
        assertEquals(0, TestPackets.internetChecksum(error, inner, 20, 0), "quoted IPv4 header checksum");
        FrameFacts.assertChecksums(error);
    }

    @Test
    void shouldTranslateTheIcmpIdWhenTheEchoTupleIsTaken()
    {
        final NatSpec spec = snat("10.1.1.240", "10.1.1.240", 0, 0);
        final byte[] a = TestPackets.ipv4("10.1.1.1", "8.8.8.8").echo(8, 700, 1).payload(16).build();
        final byte[] b = TestPackets.ipv4("10.1.1.2", "8.8.8.8").echo(8, 700, 1).payload(16).build();
        assertEquals("new|trk|snat", flags(driver.send(a, commitNat(spec), 1000)));
        assertEquals("new|trk|snat", flags(driver.send(b, commitNat(spec), 1000)));
        assertEquals(700, FrameFacts.icmpId(a));
        assertEquals(701, FrameFacts.icmpId(b), "ids below 1024 stay in 600-1023");
        FrameFacts.assertChecksums(b);
        final byte[] reply = TestPackets.ipv4("8.8.8.8", "10.1.1.240").echo(0, 701, 1).payload(16).build();
        assertEquals("est|rpl|trk|dnat", flags(driver.send(reply, natOnly(), 1001)));
        assertEquals("10.1.1.2", FrameFacts.dst(reply));
        assertEquals(700, FrameFacts.icmpId(reply));
        FrameFacts.assertChecksums(reply);
    }

    @Test
    void shouldTranslateIpv6AndSctp()
    {
        final NatSpec v6 = NatSpec.of(true, true, 0x20010db8_00000000L, 0xF0L, 0x20010db8_00000000L, 0xF0L, 0, 0, 0);
        final byte[] udp = TestPackets.ipv6("2001:db8::1", "2001:db8::2").udp(6000, 53).payload(9).build();
        assertEquals("new|trk|snat", flags(driver.send(udp, commitNat(v6), 1000)));
        assertEquals("2001:db8:0:0:0:0:0:f0", FrameFacts.src(udp));
        FrameFacts.assertChecksums(udp);

        final byte[] sctp = TestPackets.ipv4("10.1.1.1", "10.1.1.2").sctp(3000, 4000).sctpInit().build();
        assertEquals("new|trk|snat", flags(driver.send(sctp, commitNat(snat("10.9.9.9", "10.9.9.9", 0, 0)), 1000)));
        assertEquals("10.9.9.9", FrameFacts.src(sctp));
        FrameFacts.assertChecksums(sctp);
    }

    @Test
    void shouldCommitPlainNatWithoutTranslationAndApplyAStoredTranslationOnlyWhenNatIsAsked()
    {
        final byte[] plain = TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(7000, 53).build();
        final byte[] copy = plain.clone();
        final Verdict v = driver.send(plain, commitNat(NatSpec.PLAIN), 1000);
        assertEquals("new|trk", flags(v));
        assertNotEquals(0, v.connId());
        assertTrue(java.util.Arrays.equals(copy, plain));

        final byte[] out = TestPackets.ipv4("10.1.1.5", "10.1.1.2").udp(7000, 53).build();
        driver.send(out, commitNat(snat("10.1.1.240", "10.1.1.240", 0, 0)), 1000);
        final byte[] second = TestPackets.ipv4("10.1.1.5", "10.1.1.2").udp(7000, 53).build();
        final byte[] untouched = second.clone();
        final Verdict noNat = driver.send(second, new ExecParams().zone(0), 1001);
        assertFalse(flags(noNat).contains("snat"), flags(noNat));
        assertTrue(java.util.Arrays.equals(untouched, second), "ct without nat leaves the packet alone");
        final byte[] third = TestPackets.ipv4("10.1.1.5", "10.1.1.2").udp(7000, 53).build();
        assertTrue(flags(driver.send(third, natOnly(), 1002)).contains("snat"));
        assertEquals("10.1.1.240", FrameFacts.src(third));
    }

    @Test
    void shouldFindAnAlreadyTranslatedPacketByItsReversedKey()
    {
        final byte[] out = TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(5000, 53).build();
        final Verdict first = driver.send(out, commitNat(snat("10.1.1.240", "10.1.1.240", 0, 0)), 1000);
        // The same packet, translated, meets ct again in the same zone (it carries snat in its state).
        final ExecParams again = new ExecParams().zone(0);
        final io.ctrack.engine.key.CtRequest r = new io.ctrack.engine.key.CtRequest();
        final io.ctrack.engine.key.ConnKeyExtractor extractor = new io.ctrack.engine.key.ConnKeyExtractor();
        final io.ctrack.engine.packet.ParsedFrame frame = new io.ctrack.engine.packet.ParsedFrame();
        new io.ctrack.engine.packet.FrameParser().parse(TestPackets.buffer(out), 0, out.length, frame);
        assertEquals(io.ctrack.engine.key.ConnKeyExtractor.OK, extractor.extract(frame, 0, true, r));
        r.inState(CtState.TRACKED | CtState.NEW | CtState.SRC_NAT);
        final Verdict v = new Verdict().wrap(new org.agrona.concurrent.UnsafeBuffer(new byte[Verdict.NAT_LENGTH]), 0);
        driver.conntrack().table().execute(r, again, 1001, v);
        assertEquals(first.connId(), v.connId(), "found as the original direction, not a new connection");
        assertFalse((v.ctState() & CtState.REPLY_DIR) != 0);
    }
}
