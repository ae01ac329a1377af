package io.ctrack.engine.tcp;

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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.FIN;
import static io.ctrack.engine.testing.TestPackets.PSH;
import static io.ctrack.engine.testing.TestPackets.RST;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static io.ctrack.engine.testing.TestPackets.URG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TCP tracking through the engine, against Open vSwitch's {@code tcp_conn_update}, {@code tcp_valid_new},
 * {@code tcp_new_conn} and {@code tcp_invalid_flags} ({@code lib/conntrack-tcp.c}) and the timeout mapping of
 * {@code tm_to_ct_dpif_tp} ({@code lib/conntrack-tp.c}). Client 10.1.1.1:40000 (ISN 1000), server 10.1.1.2:80
 * (ISN 5000); windows 64240 and 65160 unless a test says otherwise. Time is passed explicitly.
 */
class TcpTrackerTest
{
    private static final long T0 = 1_000_000_000L;
    private static final int CLIENT_WINDOW = 64240;
    private static final int SERVER_WINDOW = 65160;
    /** Open vSwitch's MAXACKWINDOW: 0xffff + 1500. */
    private static final int MAX_ACK_WINDOW = 0xFFFF + 1500;

    private ConntrackDriver ct;

    @BeforeEach
    void setUp()
    {
        ct = new ConntrackDriver();
    }

    private static byte[] c2s(final int flags, final long seq, final long ack, final int payload)
    {
        return c2s(flags, seq, ack, payload, CLIENT_WINDOW, -1);
    }

    private static byte[] c2s(final int flags, final long seq, final long ack, final int payload, final int window,
        final int wscale)
    {
        final PacketBuilder b = TestPackets.ipv4("10.1.1.1", "10.1.1.2").tcp(40000, 80).flags(flags)
            .seq(seq).ack(ack).window(window).payload(payload);
        return (wscale >= 0 ? b.wscale(wscale) : b).build();
    }

    private static byte[] s2c(final int flags, final long seq, final long ack, final int payload)
    {
        return s2c(flags, seq, ack, payload, SERVER_WINDOW, -1);
    }

    private static byte[] s2c(final int flags, final long seq, final long ack, final int payload, final int window,
        final int wscale)
    {
        final PacketBuilder b = TestPackets.ipv4("10.1.1.2", "10.1.1.1").tcp(80, 40000).flags(flags)
            .seq(seq).ack(ack).window(window).payload(payload);
        return (wscale >= 0 ? b.wscale(wscale) : b).build();
    }

    private String send(final byte[] frame, final long nowMs)
    {
        return ct.flags(frame, nowMs);
    }

    /** SYN, SYN-ACK, ACK at {@code nowMs}: client next seq 1001, server next seq 5001. */
    private void handshake(final long nowMs)
    {
        assertEquals("new|trk", send(c2s(SYN, 1000, 0, 0), nowMs));
        assertEquals("est|rpl|trk", send(s2c(SYN | ACK, 5000, 1001, 0), nowMs));
        assertEquals("est|trk", send(c2s(ACK, 1001, 5001, 0), nowMs));
    }

    private ConnEntry entry(final long nowMs)
    {
        final ConnEntry e = ct.find(c2s(ACK, 1, 1, 0), nowMs);
        assertNotNull(e, "connection not in the table");
        return e;
    }

    private String state(final long nowMs)
    {
        final String dump = ct.dump(c2s(ACK, 1, 1, 0), nowMs);
        assertNotNull(dump, "connection not in the table");
        final int at = dump.indexOf("protoinfo=(state=");
        return dump.substring(at + "protoinfo=(state=".length(), dump.length() - 1);
    }

    private void assertPeers(final TcpState client, final TcpState server, final long nowMs)
    {
        final ConnEntry e = entry(nowMs);
        assertEquals(client, TcpState.byOrdinal(e.tcpState(0)), "client peer");
        assertEquals(server, TcpState.byOrdinal(e.tcpState(1)), "server peer");
    }

    private void assertExpiresAfter(final int seconds, final long nowMs)
    {
        assertEquals(nowMs + seconds * 1000L, entry(nowMs).expirationMs());
    }

    /** Zone 0 gets a policy whose every TCP timeout is different, so each expiration names its attribute. */
    private void distinctTcpPolicy()
    {
        final int[] seconds = new int[TimeoutAttr.count()];
        Arrays.fill(seconds, -1);
        seconds[TimeoutAttr.TCP_SYN_SENT.ordinal()] = 11;
        seconds[TimeoutAttr.TCP_SYN_RECV.ordinal()] = 22;
        seconds[TimeoutAttr.TCP_ESTABLISHED.ordinal()] = 33;
        seconds[TimeoutAttr.TCP_FIN_WAIT.ordinal()] = 44;
        seconds[TimeoutAttr.TCP_TIME_WAIT.ordinal()] = 55;
        seconds[TimeoutAttr.TCP_CLOSE.ordinal()] = 66;
        ct.conntrack().policies().setPolicy(1, seconds);
        ct.conntrack().policies().setZonePolicy(0, 1);
    }

    // ---- opening -----------------------------------------------------------------------------------------------

    @Test
    void shouldEstablishBothWaysAfterTheHandshake()
    {
        handshake(T0);
        assertPeers(TcpState.ESTABLISHED, TcpState.ESTABLISHED, T0);
        assertEquals("tcp,orig=(src=10.1.1.1,dst=10.1.1.2,sport=40000,dport=80),"
            + "reply=(src=10.1.1.2,dst=10.1.1.1,sport=80,dport=40000),protoinfo=(state=ESTABLISHED)",
            ct.dump(c2s(ACK, 1, 1, 0), T0));
        assertEquals("est|trk", send(c2s(PSH | ACK, 1001, 5001, 100), T0 + 1));
        assertEquals("est|rpl|trk", send(s2c(PSH | ACK, 5001, 1101, 300), T0 + 2));
        assertEquals("est|trk", send(c2s(ACK, 1101, 5301, 0), T0 + 3));
    }

    @Test
    void shouldTrackAnIpv6HandshakeTheSameWay()
    {
        final PacketBuilder c = TestPackets.ipv6("fd00::1", "fd00::2").tcp(40000, 80).window(CLIENT_WINDOW);
        final PacketBuilder s = TestPackets.ipv6("fd00::2", "fd00::1").tcp(80, 40000).window(SERVER_WINDOW);
        assertEquals("new|trk", send(c.flags(SYN).seq(1000).build(), T0));
        assertEquals("est|rpl|trk", send(s.flags(SYN | ACK).seq(5000).ack(1001).build(), T0));
        assertEquals("est|trk", send(c.flags(ACK).seq(1001).ack(5001).build(), T0));
        assertTrue(ct.dump(c.build(), T0).startsWith("tcp,orig=(src=fd00::1,dst=fd00::2,sport=40000,dport=80)"));
    }

    @Test
    void shouldUseTheOpeningTimeoutsUntilBothPeersAreEstablished()
    {
        distinctTcpPolicy();
        send(c2s(SYN, 1000, 0, 0), T0);
        assertPeers(TcpState.SYN_SENT, TcpState.CLOSED, T0);
        assertEquals("SYN_SENT", state(T0));
        assertExpiresAfter(11, T0);

        send(s2c(SYN | ACK, 5000, 1001, 0), T0 + 100);
        assertPeers(TcpState.ESTABLISHED, TcpState.SYN_SENT, T0 + 100);
        assertEquals("ESTABLISHED", state(T0 + 100));
        assertExpiresAfter(22, T0 + 100);

        send(c2s(ACK, 1001, 5001, 0), T0 + 200);
        assertPeers(TcpState.ESTABLISHED, TcpState.ESTABLISHED, T0 + 200);
        assertExpiresAfter(33, T0 + 200);
    }

    @Test
    void shouldUseOpenVswitchDefaultTimeouts()
    {
        send(c2s(SYN, 1000, 0, 0), T0);
        assertExpiresAfter(30, T0);
        send(s2c(SYN | ACK, 5000, 1001, 0), T0);
        assertExpiresAfter(30, T0);
        send(c2s(ACK, 1001, 5001, 0), T0);
        assertExpiresAfter(86_400, T0);
        send(c2s(FIN | ACK, 1001, 5001, 0), T0);
        assertExpiresAfter(900, T0);
        send(s2c(FIN | ACK, 5001, 1002, 0), T0);
        assertExpiresAfter(45, T0);
        send(c2s(ACK, 1002, 5002, 0), T0);
        assertExpiresAfter(30, T0);
    }

    @Test
    void shouldKeepARetransmittedSynNewAndRestartItsTimeout()
    {
        distinctTcpPolicy();
        assertEquals("new|trk", send(c2s(SYN, 1000, 0, 0), T0));
        assertEquals("new|trk", send(c2s(SYN, 1000, 0, 0), T0 + 3000));
        assertExpiresAfter(11, T0 + 3000);
        assertEquals(1, ct.counter(EngineCounter.CONN_CREATED));
    }

    // ---- flags -------------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = { SYN | FIN, SYN | RST, 0, FIN, FIN | PSH | URG, SYN | FIN | PSH | URG, PSH, URG, SYN | ACK })
    void shouldRefuseToStartAConnectionWithInvalidFlags(final int flags)
    {
        final Verdict v = ct.send(c2s(flags, 1000, flags == (SYN | ACK) ? 77 : 0, 0), T0);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_NEW.id(), v.reason());
        assertEquals(0, v.connId());
        assertEquals(0, ct.conntrack().table().size());
    }

    @ParameterizedTest
    @ValueSource(ints = { SYN | FIN, SYN | RST, 0, FIN, FIN | PSH | URG, PSH, SYN | FIN | ACK, SYN | RST | ACK })
    void shouldRefuseInvalidFlagsInsideAConnectionAndKeepIt(final int flags)
    {
        handshake(T0);
        final Verdict v = ct.send(c2s(flags, 1001, 5001, 0), T0 + 1);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_TCP_FLAGS.id(), v.reason());
        assertPeers(TcpState.ESTABLISHED, TcpState.ESTABLISHED, T0 + 1);
        assertEquals("est|trk", send(c2s(PSH | ACK, 1001, 5001, 10), T0 + 2));
    }

    @Test
    void shouldStartConnectionsFromALoneRstOrRstAck()
    {
        assertEquals("new|trk", send(c2s(RST, 1000, 0, 0), T0));
        assertEquals("new|trk", send(TestPackets.ipv4("10.1.1.1", "10.1.1.2").tcp(40001, 80).flags(RST | ACK)
            .seq(1000).ack(5000).build(), T0));
        assertEquals(2, ct.conntrack().table().size());
    }

    @Test
    void shouldPickUpAConnectionFromAMidStreamAck()
    {
        assertEquals("new|trk", send(c2s(ACK, 1000, 5000, 0, 1000, -1), T0));
        final ConnEntry e = entry(T0);
        // tcp_new_conn without SYN: both peers' window scale unknown, so the loose 14-bit shift applies.
        assertEquals(0x40, e.wscale(0));
        assertEquals(0x40, e.wscale(1));
        assertEquals("est|rpl|trk", send(s2c(ACK, 5000, 1000, 0, 1000, -1), T0 + 1));
        assertEquals("est|trk", send(c2s(ACK, 1000, 5000, 0, 1000, -1), T0 + 2));
    }

    @Test
    void shouldEstablishAMidStreamPickUpEvenWithoutAReply()
    {
        assertEquals("new|trk", send(c2s(ACK, 1000, 5000, 0), T0));
        assertEquals("est|trk", send(c2s(ACK, 1000, 5000, 0), T0 + 1));
    }

    // ---- window ------------------------------------------------------------------------------------------------

    @Test
    void shouldRefuseDataFarBeyondOrBelowTheWindow()
    {
        handshake(T0);
        final Verdict beyond = ct.send(c2s(PSH | ACK, 1001 + 10_000_000, 5001, 100), T0 + 1);
        assertEquals("inv|trk", CtState.format(beyond.ctState()));
        assertEquals(EngineCounter.INVALID_TCP_WINDOW.id(), beyond.reason());
        assertEquals("inv|trk", send(c2s(PSH | ACK, 1001 - 10_000_000, 5001, 100), T0 + 2));
        assertEquals("inv|trk", send(s2c(PSH | ACK, 5001 + 3_000_000, 1001, 100), T0 + 3));
        assertEquals("est|trk", send(c2s(PSH | ACK, 1001, 5001, 100), T0 + 4));
        assertEquals(3, ct.counter(EngineCounter.INVALID_TCP_WINDOW));
    }

    @Test
    void shouldAcceptASegmentEndingExactlyAtTheReceiversWindowAndNotOneByteMore()
    {
        handshake(T0);
        // The server's SYN-ACK (ack 1001, window 65160) lets the client send up to 1001 + 65160.
        final long edge = 1001 + SERVER_WINDOW;
        assertEquals("inv|trk", send(c2s(PSH | ACK, edge + 1 - 100, 5001, 100), T0 + 1));
        assertEquals("est|trk", send(c2s(PSH | ACK, edge - 100, 5001, 100), T0 + 2));
    }

    @Test
    void shouldAcceptRetransmissionsUpToOneWindowBack()
    {
        handshake(T0);
        // seq >= seqlo - (receiver's max window). The client's seqlo is still its SYN's sequence, 1000: a bare ACK
        // (seq == end) is checked against seqlo itself and does not move it. The server's largest window is 65160.
        final long oldest = 1000 - SERVER_WINDOW;
        assertEquals("inv|trk", send(c2s(PSH | ACK, oldest - 1, 5001, 10), T0 + 1));
        assertEquals("est|trk", send(c2s(PSH | ACK, oldest, 5001, 10), T0 + 2));
    }

    @Test
    void shouldRefuseAnAckForDataNeverSent()
    {
        handshake(T0);
        assertEquals("inv|trk", send(c2s(ACK, 1001, 5001 + 10_000_000, 0), T0 + 1));
        // The ack may run at most MAXACKWINDOW past what the server sent, and as far back.
        assertEquals("inv|trk", send(c2s(ACK, 1001, 5001 + MAX_ACK_WINDOW + 1, 0), T0 + 2));
        assertEquals("inv|trk", send(c2s(ACK, 1001, 5001 - MAX_ACK_WINDOW - 1, 0), T0 + 3));
        assertEquals("est|trk", send(c2s(ACK, 1001, 5001 + MAX_ACK_WINDOW, 0), T0 + 4));
        assertEquals("est|trk", send(c2s(ACK, 1001, 5001 - MAX_ACK_WINDOW, 0), T0 + 5));
    }

    @Test
    void shouldNotCheckSequencesWhenTheCheckIsDisabled()
    {
        ct.conntrack().table().sequenceCheck(false);
        handshake(T0);
        assertEquals("est|trk", send(c2s(PSH | ACK, 1001 + 10_000_000, 5001, 100), T0 + 1));
        assertEquals("est|trk", send(c2s(ACK, 1001, 5001 + 10_000_000, 0), T0 + 2));
        assertEquals("est|rpl|trk", send(s2c(PSH | ACK, 5001 - 10_000_000, 1001, 10), T0 + 3));
    }

    @Test
    void shouldStillRefuseInvalidFlagsWhenTheSequenceCheckIsDisabled()
    {
        ct.conntrack().table().sequenceCheck(false);
        handshake(T0);
        assertEquals("inv|trk", send(c2s(SYN | FIN, 1001, 5001, 0), T0 + 1));
    }

    // ---- window scaling ----------------------------------------------------------------------------------------

    /**
     * After a handshake with the given options, the client acknowledges 1400 bytes of server data with window 502
     * and the server sends 1000 bytes at seq 69000. With both sides scaling by 7, window 502 means 64256 bytes and
     * the segment fits; when scaling is off, the window stays where the handshake put it (69257 at most).
     */
    private String segmentAfterScaledHandshake(final int clientScale, final int serverScale)
    {
        assertEquals("new|trk", send(c2s(SYN, 1000, 0, 0, CLIENT_WINDOW, clientScale), T0));
        assertEquals("est|rpl|trk", send(s2c(SYN | ACK, 5000, 1001, 0, SERVER_WINDOW, serverScale), T0));
        assertEquals("est|trk", send(c2s(ACK, 1001, 5001, 0, 502, -1), T0));
        assertEquals("est|rpl|trk", send(s2c(PSH | ACK, 5001, 1001, 1400, 510, -1), T0));
        assertEquals("est|trk", send(c2s(ACK, 1001, 6401, 0, 502, -1), T0));
        return send(s2c(PSH | ACK, 69_000, 1001, 1000, 510, -1), T0 + 1);
    }

    @Test
    void shouldScaleWindowsWhenBothSidesSendTheOption()
    {
        assertEquals("est|rpl|trk", segmentAfterScaledHandshake(7, 7));
        final ConnEntry e = entry(T0 + 1);
        assertEquals(0x87, e.wscale(0));
        assertEquals(0x87, e.wscale(1));
        // The SYN's window is stored unscaled, rounded up: 64240 / 128 -> 502; 65160 / 128 -> 510.
        assertEquals(502, e.maxWin(0));
        assertEquals(510, e.maxWin(1));
    }

    @Test
    void shouldNotScaleWhenOnlyTheClientSendsTheOption()
    {
        assertEquals("inv|trk", segmentAfterScaledHandshake(7, -1));
        final ConnEntry e = entry(T0 + 1);
        // The SYN-ACK without the option turns scaling off and restores the client's window (502 << 7).
        assertEquals(0, e.wscale(0));
        assertEquals(0, e.wscale(1));
        assertEquals(64256, e.maxWin(0));
    }

    @Test
    void shouldIgnoreTheServersOptionWhenTheClientSentNone()
    {
        assertEquals("inv|trk", segmentAfterScaledHandshake(-1, 7));
        final ConnEntry e = entry(T0 + 1);
        assertEquals(0, e.wscale(0));
        assertEquals(0, e.wscale(1));
        assertEquals(SERVER_WINDOW, e.maxWin(1));
    }

    @Test
    void shouldNotScaleWhenNeitherSideSendsTheOption()
    {
        assertEquals("inv|trk", segmentAfterScaledHandshake(-1, -1));
    }

    // ---- reset -------------------------------------------------------------------------------------------------

    @Test
    void shouldRequireAResetsSequenceToMatchExactly()
    {
        handshake(T0);
        send(c2s(PSH | ACK, 1001, 5001, 100), T0);
        // The client has sent up to 1101: a reset inside the window but not at 1101 (or +-1) is refused.
        final Verdict v = ct.send(c2s(RST, 1050, 0, 0), T0 + 1);
        assertEquals("inv|trk", CtState.format(v.ctState()));
        assertEquals(EngineCounter.INVALID_TCP_WINDOW.id(), v.reason());
        assertPeers(TcpState.ESTABLISHED, TcpState.ESTABLISHED, T0 + 1);

        assertEquals("est|trk", send(c2s(RST, 1101, 0, 0), T0 + 2));
        assertPeers(TcpState.TIME_WAIT, TcpState.TIME_WAIT, T0 + 2);
        assertEquals("TIME_WAIT", state(T0 + 2));
        assertExpiresAfter(30, T0 + 2);
    }

    @ParameterizedTest
    @ValueSource(ints = { -1, 1 })
    void shouldAcceptAResetOneAwayFromTheExpectedSequence(final int delta)
    {
        handshake(T0);
        assertEquals("est|rpl|trk", send(s2c(RST, 5001 + delta, 0, 0), T0 + 1));
        assertPeers(TcpState.TIME_WAIT, TcpState.TIME_WAIT, T0 + 1);
    }

    @Test
    void shouldAcceptAResetAckWithAZeroAckNumber()
    {
        handshake(T0);
        assertEquals("est|rpl|trk", send(s2c(RST | ACK, 5001, 0, 0), T0 + 1));
    }

    @Test
    void shouldStartANewConnectionWithASynAfterAReset()
    {
        handshake(T0);
        final long firstId = ct.send(c2s(ACK, 1001, 5001, 0), T0).connId();
        send(c2s(RST, 1001, 0, 0), T0 + 1);
        assertEquals("new|trk", send(c2s(SYN, 777_000, 0, 0), T0 + 2));
        assertPeers(TcpState.SYN_SENT, TcpState.CLOSED, T0 + 2);
        assertNotEquals(firstId, ct.send(c2s(SYN, 777_000, 0, 0), T0 + 3).connId());
        assertEquals(1, ct.counter(EngineCounter.CONN_REPLACED));
    }

    // ---- closing -----------------------------------------------------------------------------------------------

    @Test
    void shouldCloseWithFinsThroughEveryStateAndTimeout()
    {
        distinctTcpPolicy();
        handshake(T0);

        assertEquals("est|trk", send(c2s(FIN | ACK, 1001, 5001, 0), T0 + 1000));
        assertPeers(TcpState.CLOSING, TcpState.ESTABLISHED, T0 + 1000);
        assertEquals("CLOSING", state(T0 + 1000));
        assertExpiresAfter(44, T0 + 1000);

        assertEquals("est|rpl|trk", send(s2c(ACK, 5001, 1002, 0), T0 + 2000));
        assertPeers(TcpState.FIN_WAIT_2, TcpState.ESTABLISHED, T0 + 2000);
        // A non-verbose dump shows FIN_WAIT_2 as TIME_WAIT (coalesce_tcp_state).
        assertEquals("TIME_WAIT", state(T0 + 2000));
        assertExpiresAfter(44, T0 + 2000);

        assertEquals("est|rpl|trk", send(s2c(FIN | ACK, 5001, 1002, 0), T0 + 3000));
        assertPeers(TcpState.FIN_WAIT_2, TcpState.CLOSING, T0 + 3000);
        assertExpiresAfter(55, T0 + 3000);

        assertEquals("est|trk", send(c2s(ACK, 1002, 5002, 0), T0 + 4000));
        assertPeers(TcpState.FIN_WAIT_2, TcpState.FIN_WAIT_2, T0 + 4000);
        assertEquals("TIME_WAIT", state(T0 + 4000));
        assertExpiresAfter(66, T0 + 4000);
    }

    @Test
    void shouldStartANewConnectionWithASynOnceBothSidesHaveClosed()
    {
        handshake(T0);
        send(c2s(FIN | ACK, 1001, 5001, 0), T0);
        send(s2c(FIN | ACK, 5001, 1002, 0), T0);
        send(c2s(ACK, 1002, 5002, 0), T0);
        assertEquals("est|rpl|trk", send(s2c(ACK, 5002, 1002, 0), T0));
        assertPeers(TcpState.FIN_WAIT_2, TcpState.FIN_WAIT_2, T0);

        assertEquals("new|trk", send(c2s(SYN, 90_000, 0, 0), T0 + 1));
        assertPeers(TcpState.SYN_SENT, TcpState.CLOSED, T0 + 1);
        assertEquals(1, ct.counter(EngineCounter.CONN_REPLACED));
        assertEquals("est|rpl|trk", send(s2c(SYN | ACK, 33_000, 90_001, 0), T0 + 2));
    }

    @Test
    void shouldNotRestartAConnectionWithASynWhileOnlyOneSideHasClosed()
    {
        handshake(T0);
        send(c2s(FIN | ACK, 1001, 5001, 0), T0);
        send(s2c(ACK, 5001, 1002, 0), T0);
        assertPeers(TcpState.FIN_WAIT_2, TcpState.ESTABLISHED, T0);
        assertEquals("inv|trk", send(c2s(SYN, 1_000_000_000L, 0, 0), T0 + 1));
        assertEquals(0, ct.counter(EngineCounter.CONN_REPLACED));
    }

    // ---- force -------------------------------------------------------------------------------------------------

    @Test
    void shouldRestartAConnectionSeenFromItsReplyDirectionWhenForced()
    {
        handshake(T0);
        final ExecParams force = ExecParams.commit(0).force(true);
        assertEquals("est|trk", CtState.format(ct.send(c2s(ACK, 1001, 5001, 0), force, T0 + 1).ctState()));
        assertEquals(0, ct.counter(EngineCounter.CONN_REPLACED));

        assertEquals("new|trk", CtState.format(ct.send(s2c(ACK, 5001, 1001, 0), force, T0 + 2).ctState()));
        assertEquals(1, ct.counter(EngineCounter.CONN_REPLACED));
        assertEquals(1, ct.conntrack().table().size());
        assertTrue(ct.dump(c2s(ACK, 1, 1, 0), T0 + 2).startsWith(
            "tcp,orig=(src=10.1.1.2,dst=10.1.1.1,sport=80,dport=40000)"));
        // The old originator now speaks in the reply direction of the new connection.
        assertEquals("est|rpl|trk", send(c2s(ACK, 1001, 5001, 0), T0 + 3));
    }
}
