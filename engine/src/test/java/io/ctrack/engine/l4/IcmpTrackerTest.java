package io.ctrack.engine.l4;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.table.ConnEntry;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.timeout.TimeoutAttr;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.PSH;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * ICMP and ICMPv6 exchanges against Open vSwitch's {@code conntrack-icmp.c} (FIRST until a reply, then REPLY; only
 * requests start a connection) and ICMP errors against {@code process_one}/{@code conn_update_state}: an error
 * quoting a known connection is {@code rel}, plus {@code rpl} when the reversed quoted tuple is the connection's
 * reply direction, and {@code inv} when no connection is found; it never creates or updates a connection.
 */
class IcmpTrackerTest
{
    private static final long T0 = 77_000_000L;
    private static final String CLIENT = "10.0.0.1";
    private static final String SERVER = "10.0.0.2";
    private static final String ROUTER = "10.0.0.254";

    private ConntrackDriver ct;

    @BeforeEach
    void setUp()
    {
        ct = new ConntrackDriver();
    }

    private static byte[] echo(final String src, final String dst, final int type, final int id)
    {
        final boolean v6 = src.contains(":");
        final PacketBuilder b = v6 ? TestPackets.ipv6(src, dst) : TestPackets.ipv4(src, dst);
        return b.echo(type, id, 1).payload(16).build();
    }

    private long expiration(final byte[] frame, final long nowMs)
    {
        final ConnEntry e = ct.find(frame, nowMs);
        assertNotNull(e);
        return e.expirationMs();
    }

    // ---- informational -----------------------------------------------------------------------------------------

    @Test
    void shouldTrackAnEchoRequestAndItsReply()
    {
        final byte[] request = echo(CLIENT, SERVER, 8, 7);
        final byte[] reply = echo(SERVER, CLIENT, 0, 7);
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals("new|trk", ct.flags(request, T0 + 1));
        assertEquals("est|rpl|trk", ct.flags(reply, T0 + 2));
        assertEquals("est|trk", ct.flags(request, T0 + 3));
        assertEquals("icmp,orig=(src=10.0.0.1,dst=10.0.0.2,id=7,type=8,code=0),"
            + "reply=(src=10.0.0.2,dst=10.0.0.1,id=7,type=0,code=0)", ct.dump(request, T0 + 3));
    }

    @Test
    void shouldUseTheIcmpFirstAndReplyTimeouts()
    {
        final byte[] request = echo(CLIENT, SERVER, 8, 7);
        ct.flags(request, T0);
        assertEquals(T0 + 60_000, expiration(request, T0));

        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.ICMP_FIRST.ordinal()] = 11;
        seconds[TimeoutAttr.ICMP_REPLY.ordinal()] = 22;
        ct.conntrack().policies().setPolicy(2, seconds);
        ct.conntrack().policies().setZonePolicy(0, 2);
        final byte[] other = echo(CLIENT, SERVER, 8, 8);
        ct.flags(other, T0);
        assertEquals(T0 + 11_000, expiration(other, T0));
        ct.flags(echo(SERVER, CLIENT, 0, 8), T0 + 5);
        assertEquals(T0 + 5 + 22_000, expiration(other, T0 + 5));
    }

    @Test
    void shouldRefuseAnEchoReplyWithoutARequest()
    {
        final Verdict v = ct.send(echo(SERVER, CLIENT, 0, 7), T0);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_NEW.id(), v.reason());
        assertEquals(0, ct.conntrack().table().size());
    }

    @Test
    void shouldKeepEchoIdentifiersApart()
    {
        assertEquals("new|trk", ct.flags(echo(CLIENT, SERVER, 8, 1), T0));
        assertEquals("new|trk", ct.flags(echo(CLIENT, SERVER, 8, 2), T0));
        assertEquals("inv|trk", ct.flags(echo(SERVER, CLIENT, 0, 3), T0));
        assertEquals("est|rpl|trk", ct.flags(echo(SERVER, CLIENT, 0, 2), T0));
        assertEquals(2, ct.conntrack().table().size());
    }

    @Test
    void shouldTrackTimestampAndInformationRequests()
    {
        assertEquals("new|trk", ct.flags(echo(CLIENT, SERVER, 13, 5), T0));
        assertEquals("est|rpl|trk", ct.flags(echo(SERVER, CLIENT, 14, 5), T0));
        assertEquals("new|trk", ct.flags(echo(CLIENT, SERVER, 15, 5), T0));
        assertEquals("est|rpl|trk", ct.flags(echo(SERVER, CLIENT, 16, 5), T0));
        assertEquals("inv|trk", ct.flags(echo(SERVER, CLIENT, 14, 6), T0));
        assertEquals("inv|trk", ct.flags(echo(SERVER, CLIENT, 16, 6), T0));
    }

    @Test
    void shouldNotMatchAnEchoReplyToATimestampRequest()
    {
        ct.flags(echo(CLIENT, SERVER, 13, 5), T0);
        assertEquals("inv|trk", ct.flags(echo(SERVER, CLIENT, 0, 5), T0));
    }

    @Test
    void shouldTrackAnIcmpv6EchoRequestAndItsReply()
    {
        final byte[] request = echo("fd00::1", "fd00::2", 128, 9);
        assertEquals("inv|trk", ct.flags(echo("fd00::2", "fd00::1", 129, 9), T0));
        assertEquals("new|trk", ct.flags(request, T0));
        assertEquals("est|rpl|trk", ct.flags(echo("fd00::2", "fd00::1", 129, 9), T0));
        assertEquals("icmpv6,orig=(src=fd00::1,dst=fd00::2,id=9,type=128,code=0),"
            + "reply=(src=fd00::2,dst=fd00::1,id=9,type=129,code=0)", ct.dump(request, T0));
    }

    @Test
    void shouldRefuseNeighbourDiscovery()
    {
        for (final int type : new int[] { 135, 136 })
        {
            final Verdict v = ct.send(TestPackets.ipv6("fd00::1", "ff02::1:ff00:2").icmp(type, 0).payload(16).build(), T0);
            assertEquals("inv|trk", CtState.format(v.ctState()));
            assertEquals(EngineCounter.INVALID_ICMP.id(), v.reason());
        }
        assertEquals(0, ct.conntrack().table().size());
    }

    // ---- errors ------------------------------------------------------------------------------------------------

    private byte[] clientSyn()
    {
        return TestPackets.ipv4(CLIENT, SERVER).tcp(47001, 80).flags(SYN).seq(1000).window(64240).build();
    }

    private void tcpConnection()
    {
        assertEquals("new|trk", ct.flags(clientSyn(), T0));
        assertEquals("est|rpl|trk", ct.flags(TestPackets.ipv4(SERVER, CLIENT).tcp(80, 47001).flags(SYN | ACK)
            .seq(5000).ack(1001).window(65160).build(), T0));
        assertEquals("est|trk", ct.flags(TestPackets.ipv4(CLIENT, SERVER).tcp(47001, 80).flags(ACK)
            .seq(1001).ack(5001).window(64240).build(), T0));
    }

    private static byte[] clientData()
    {
        return TestPackets.ipv4(CLIENT, SERVER).tcp(47001, 80).flags(PSH | ACK).seq(1001).ack(5001).payload(500)
            .datagram();
    }

    private static byte[] serverAck()
    {
        return TestPackets.ipv4(SERVER, CLIENT).tcp(80, 47001).flags(ACK).seq(5001).ack(1001).datagram();
    }

    @Test
    void shouldMarkAnErrorQuotingTheOriginalDirectionRelatedReply()
    {
        tcpConnection();
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, clientData()).build(), T0));
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 3,
            Arrays.copyOf(clientData(), 40)).build(), T0));
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv4(ROUTER, CLIENT).icmpError(11, 0,
            Arrays.copyOf(clientData(), 28)).build(), T0));
    }

    @Test
    void shouldMarkAnErrorQuotingTheReplyDirectionRelated()
    {
        tcpConnection();
        assertEquals("rel|trk", ct.flags(TestPackets.ipv4(CLIENT, SERVER).icmpError(3, 1, serverAck()).build(), T0));
    }

    @Test
    void shouldRefuseAnErrorQuotingAnUnknownConnection()
    {
        tcpConnection();
        final byte[] unknown = TestPackets.ipv4(CLIENT, SERVER).tcp(47999, 80).flags(SYN).datagram();
        final Verdict v = ct.send(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 1, unknown).build(), T0);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_RELATED_UNKNOWN.id(), v.reason());
        assertEquals(1, ct.conntrack().table().size());
    }

    @Test
    void shouldRefuseAnErrorWhoseDestinationIsNotTheQuotedSource()
    {
        tcpConnection();
        final Verdict v = ct.send(TestPackets.ipv4(CLIENT, SERVER).icmpError(3, 1, clientData()).build(), T0);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_ICMP.id(), v.reason());
    }

    @Test
    void shouldNotUpdateTheConnectionAnErrorRelatesTo()
    {
        final byte[] request = TestPackets.ipv4(CLIENT, SERVER).udp(40000, 7998).payload(4).build();
        final byte[] quoted = TestPackets.ipv4(CLIENT, SERVER).udp(40000, 7998).payload(4).datagram();
        assertEquals("new|trk", ct.flags(request, T0));
        final long expiry = expiration(request, T0);
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 3, quoted).build(), T0 + 500));
        assertEquals(expiry, expiration(request, T0 + 500));
        // Still FIRST: the error did not count as a reply.
        assertEquals("new|trk", ct.flags(request, T0 + 600));
    }

    @Test
    void shouldRelateAnErrorToAnEchoConnection()
    {
        assertEquals("new|trk", ct.flags(echo(CLIENT, SERVER, 8, 3), T0));
        final byte[] quoted = TestPackets.ipv4(CLIENT, SERVER).echo(8, 3, 1).payload(16).datagram();
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv4(ROUTER, CLIENT).icmpError(11, 0, quoted).build(), T0));
    }

    @Test
    void shouldRelateAnIcmpv6ErrorToItsConnection()
    {
        final byte[] out = TestPackets.ipv6("fd00::1", "fd00::2").udp(5000, 5001).payload(3).build();
        final byte[] quoted = TestPackets.ipv6("fd00::1", "fd00::2").udp(5000, 5001).payload(3).datagram();
        assertEquals("new|trk", ct.flags(out, T0));
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv6("fd00::fe", "fd00::1").icmpError(1, 4, quoted).build(), T0));
        assertEquals("rel|rpl|trk", ct.flags(TestPackets.ipv6("fd00::fe", "fd00::1").icmpError(2, 0, quoted).build(), T0));
        final byte[] reverse = TestPackets.ipv6("fd00::2", "fd00::1").udp(5001, 5000).datagram();
        assertEquals("rel|trk", ct.flags(TestPackets.ipv6("fd00::fe", "fd00::2").icmpError(3, 0, reverse).build(), T0));
    }

    @Test
    void shouldGiveARelatedPacketItsConnectionsIdAndMark()
    {
        ct.params().mark(0x55, 0xFF);
        final Verdict first = ct.send(clientSyn(), T0);
        ct.params().clearMark();
        final Verdict related = ct.send(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 3,
            TestPackets.ipv4(CLIENT, SERVER).tcp(47001, 80).flags(SYN).seq(1000).datagram()).build(), T0);
        assertEquals("rel|rpl|trk", CtState.format(related.ctState()));
        assertEquals(first.connId(), related.connId());
        assertNotEquals(0, related.connId());
        assertEquals(0x55, related.mark());
    }

    @Test
    void shouldNotRelateAnErrorToAConnectionInAnotherZone()
    {
        tcpConnection();
        final ExecParams zone5 = ExecParams.commit(5);
        final Verdict v = ct.send(TestPackets.ipv4(ROUTER, CLIENT).icmpError(3, 4, clientData()).build(), zone5, T0);
        assertEquals("inv|trk", CtState.format(v.ctState()));
    }

    @Test
    void shouldNotRelateAnErrorToAnExpiredConnection()
    {
        final byte[] request = TestPackets.ipv4(CLIENT, SERVER).udp(40000, 7998).payload(4).build();
        final byte[] quoted = TestPackets.ipv4(CLIENT, SERVER).udp(40000, 7998).payload(4).datagram();
        ct.flags(request, T0);
        assertEquals("inv|trk", ct.flags(TestPackets.ipv4(SERVER, CLIENT).icmpError(3, 3, quoted).build(), T0 + 60_000));
    }
}
