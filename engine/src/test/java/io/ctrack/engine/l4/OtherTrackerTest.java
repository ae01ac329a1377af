package io.ctrack.engine.l4;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.timeout.TimeoutAttr;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * UDP, SCTP and every protocol without a tracker of its own, against Open vSwitch's {@code conntrack-other.c}
 * (FIRST, MULTIPLE, BIDIR; only BIDIR is {@code est}) and its timeout mapping in {@code conntrack-tp.c}
 * ({@code OTHER_FIRST -> udp_first}, {@code OTHER_MULTIPLE -> udp_single}, {@code OTHER_BIDIR -> udp_multiple}).
 */
class OtherTrackerTest
{
    private static final long T0 = 5_000_000L;

    private final byte[] request = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(40000, 53).payload(20).build();
    private final byte[] response = TestPackets.ipv4("10.0.0.2", "10.0.0.1").udp(53, 40000).payload(60).build();
    private ConntrackDriver ct;

    @BeforeEach
    void setUp()
    {
        ct = new ConntrackDriver();
    }

    private long expiration(final byte[] frame, final long nowMs)
    {
        final ConnEntry e = ct.find(frame, nowMs);
        assertNotNull(e);
        return e.expirationMs();
    }

    private void distinctUdpPolicy()
    {
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.UDP_FIRST.ordinal()] = 11;
        seconds[TimeoutAttr.UDP_SINGLE.ordinal()] = 22;
        seconds[TimeoutAttr.UDP_MULTIPLE.ordinal()] = 33;
        ct.conntrack().policies().setPolicy(4, seconds);
        ct.conntrack().policies().setZonePolicy(0, 4);
    }

    @Test
    void shouldBeNewUntilAReplyThenEstablished()
    {
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals("new|trk", ct.flags(request, T0 + 1));
        assertEquals("est|rpl|trk", ct.flags(response, T0 + 2));
        assertEquals("est|trk", ct.flags(request, T0 + 3));
        assertEquals("est|rpl|trk", ct.flags(response, T0 + 4));
        assertEquals(1, ct.conntrack().table().size());
    }

    @Test
    void shouldMapFirstMultipleAndBidirToTheirPolicyTimeouts()
    {
        distinctUdpPolicy();
        ct.flags(request, T0);
        assertEquals(T0 + 11_000, expiration(request, T0));
        ct.flags(request, T0 + 100);
        assertEquals(T0 + 100 + 22_000, expiration(request, T0 + 100));
        ct.flags(response, T0 + 200);
        assertEquals(T0 + 200 + 33_000, expiration(request, T0 + 200));
        ct.flags(request, T0 + 300);
        assertEquals(T0 + 300 + 33_000, expiration(request, T0 + 300));
    }

    @Test
    void shouldSeeTheDefaultPolicyChangeOnTheNextPacketOfAnExistingConnection()
    {
        ct.flags(request, T0);
        ct.flags(request, T0 + 100);
        assertEquals(T0 + 100 + 60_000, expiration(request, T0 + 100));
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.UDP_SINGLE.ordinal()] = 7;
        ct.conntrack().policies().setPolicy(0, seconds);
        ct.flags(request, T0 + 200);
        assertEquals(T0 + 200 + 7_000, expiration(request, T0 + 200));
        ct.conntrack().policies().deletePolicy(0);
        ct.flags(request, T0 + 300);
        assertEquals(T0 + 300 + 60_000, expiration(request, T0 + 300));
    }

    @Test
    void shouldUseDefaultTimeoutsOf60And60And30Seconds()
    {
        ct.flags(request, T0);
        assertEquals(T0 + 60_000, expiration(request, T0));
        ct.flags(request, T0);
        assertEquals(T0 + 60_000, expiration(request, T0));
        ct.flags(response, T0);
        assertEquals(T0 + 30_000, expiration(request, T0));
    }

    @Test
    void shouldEstablishOnAReplyToTheFirstPacket()
    {
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals("est|rpl|trk", ct.flags(response, T0));
    }

    @Test
    void shouldForgetAConnectionAtItsExpirationAndStartANewOne()
    {
        final Verdict first = ct.send(request, T0);
        assertEquals("new|trk", CtState.format(ct.send(request, T0 + 59_999).ctState()));
        assertEquals(first.connId(), ct.send(request, T0 + 59_999).connId());
        // The second packet (MULTIPLE) set the expiration to T0 + 59999 + 60000.
        final long expiry = T0 + 59_999 + 60_000;
        final Verdict again = ct.send(response, expiry);
        assertEquals("new|trk", CtState.format(again.ctState()));
        assertNotEquals(first.connId(), again.connId());
        assertEquals(1, ct.counter(EngineCounter.CONN_EXPIRED));
    }

    @Test
    void shouldTrackSctpAsAnOtherProtocol()
    {
        final byte[] init = TestPackets.ipv4("10.0.0.1", "10.0.0.2").sctp(50001, 38412).sctpInit().build();
        final byte[] initAck = TestPackets.ipv4("10.0.0.2", "10.0.0.1").sctp(38412, 50001).sctpInit().build();
        assertEquals("new|trk", ct.flags(init, T0));
        assertEquals("est|rpl|trk", ct.flags(initAck, T0));
        assertEquals("sctp,orig=(src=10.0.0.1,dst=10.0.0.2,sport=50001,dport=38412),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,sport=38412,dport=50001)", ct.dump(init, T0));
    }

    @Test
    void shouldTrackProtocolsWithoutPortsByAddresses()
    {
        final byte[] gre = TestPackets.ipv4("10.0.0.1", "10.0.0.2").rawL4(47, new byte[28]).build();
        final byte[] greBack = TestPackets.ipv4("10.0.0.2", "10.0.0.1").rawL4(47, new byte[28]).build();
        final byte[] experimental = TestPackets.ipv4("10.0.0.1", "10.0.0.2").rawL4(253, new byte[4]).build();
        assertEquals("new|trk", ct.flags(gre, T0));
        assertEquals("est|rpl|trk", ct.flags(greBack, T0));
        assertEquals("est|trk", ct.flags(gre, T0));
        assertEquals("new|trk", ct.flags(experimental, T0));
        assertEquals("47,orig=(src=10.0.0.1,dst=10.0.0.2,sport=0,dport=0),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,sport=0,dport=0)", ct.dump(gre, T0));
        assertEquals(2, ct.conntrack().table().size());
    }

    @Test
    void shouldTrackIpv6UdpTheSameWay()
    {
        final byte[] out = TestPackets.ipv6("fd00::1", "fd00::2").udp(5000, 5001).payload(3).build();
        final byte[] back = TestPackets.ipv6("fd00::2", "fd00::1").udp(5001, 5000).payload(3).build();
        assertEquals("new|trk", ct.flags(out, T0));
        assertEquals("est|rpl|trk", ct.flags(back, T0));
        assertEquals("udp,orig=(src=fd00::1,dst=fd00::2,sport=5000,dport=5001),"
            + "reply=(src=fd00::2,dst=fd00::1,sport=5001,dport=5000)", ct.dump(out, T0));
    }

    @Test
    void shouldKeepAddressFamiliesAndZonesApart()
    {
        ct.flags(request, T0);
        ct.params().zone(9);
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals("est|rpl|trk", ct.flags(response, T0));
        ct.params().zone(0);
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals(2, ct.conntrack().table().size());
    }

    @Test
    void shouldApplyTheIcmpTrackersByProtocolNumberWhateverTheFamily()
    {
        // icmp6_valid_new (conntrack-icmp.c) reads the first L4 byte as an ICMPv6 type: only 128 starts a connection.
        final byte[] v4Proto58 = TestPackets.ipv4("10.0.0.1", "10.0.0.2").rawL4(58, new byte[] { 0, 0, 0, 0, 0, 1, 0, 1 }).build();
        assertEquals("inv|trk", ct.flags(v4Proto58, T0));
        final byte[] v4Proto58Echo = TestPackets.ipv4("10.0.0.1", "10.0.0.3").rawL4(58, new byte[] { (byte)128, 0, 0, 0, 0, 1, 0, 1 }).build();
        assertEquals("new|trk", ct.flags(v4Proto58Echo, T0));
        // icmp4_valid_new: only echo, information and timestamp requests start a connection (0 is an echo reply).
        final byte[] v6Proto1 = TestPackets.ipv6("fd00::1", "fd00::2").rawL4(1, new byte[] { 0, 0, 0, 0, 0, 1, 0, 1 }).build();
        assertEquals("inv|trk", ct.flags(v6Proto1, T0));
    }
}
